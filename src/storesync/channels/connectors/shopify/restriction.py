"""A restriction of processing (GDPR Art. 18, told per Art. 19) mirrored on Shopify.

Shopify has no "restrict processing" setting. What its Admin API does have, and what storesync
uses (ADR 0025):

- **Marketing consent.** When the restriction covers marketing (a restriction, an objection
  or a do-not-sell request all do), every channel that is ``SUBSCRIBED`` or ``PENDING`` is set
  to ``UNSUBSCRIBED`` with ``customerEmailMarketingConsentUpdate`` /
  ``customerSmsMarketingConsentUpdate``; what it was (state, opt-in level) comes back in
  ``RestrictionResult.held`` for the lift. When marketing is no longer restricted, the
  ``restore`` list the caller passes (the ledger still grants marketing) is given back, but
  only where the consent is still the one storesync set: a change made on Shopify since is
  the person's or the shop's, and stays.
- **Customer tags.** ``privacy-restricted``, ``privacy-objected``, ``privacy-do-not-sell``
  (``tagsAdd`` / ``tagsRemove``) so the shop's staff, segments and apps see what stands; the
  note says that Shopify enforces nothing but the consent.

Without a known customer id the customer is looked up by email, as erasure does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storesync.channels.connectors.base import (
    CustomerRef,
    MarketingConsent,
    ProcessingRestriction,
    Rejected,
    RestrictionResult,
)
from storesync.channels.connectors.shopify import queries
from storesync.channels.connectors.shopify.client import GraphQLClient
from storesync.channels.connectors.shopify.customers import customer_ids

TAGS = {"restricted": "privacy-restricted", "objected": "privacy-objected",
        "do_not_sell": "privacy-do-not-sell"}
SWITCHED_OFF = ("SUBSCRIBED", "PENDING")  # what a restriction of marketing turns off
NODES = {"email": "defaultEmailAddress", "sms": "defaultPhoneNumber"}
MUTATION = {"email": ("EmailConsent", queries.EMAIL_CONSENT_UPDATE,
                      "customerEmailMarketingConsentUpdate", "emailMarketingConsent"),
            "sms": ("SmsConsent", queries.SMS_CONSENT_UPDATE,
                    "customerSmsMarketingConsentUpdate", "smsMarketingConsent")}


@dataclass
class _Tally:
    held: list[MarketingConsent] = field(default_factory=list)
    restored: list[MarketingConsent] = field(default_factory=list)
    kept: int = 0  # consents changed on Shopify since the restriction: left alone
    tagged: set[str] = field(default_factory=set)
    untagged: set[str] = field(default_factory=set)
    customers: int = 0
    unknown: int = 0


def _set_consent(client: GraphQLClient, customer_id: str, channel: str, state: str,
                 level: str) -> str:
    """Set one channel's consent; returns when Shopify recorded it."""
    operation, query, name, key = MUTATION[channel]
    consent: dict[str, Any] = {"marketingState": state}
    if level:
        consent["marketingOptInLevel"] = level
    data = client.execute(operation, query, {"input": {"customerId": customer_id,
                                                       key: consent}})
    payload = data[name] or {}
    errors = payload.get("userErrors") or []
    if errors:
        raise Rejected(f"Shopify refused the {channel} marketing consent: "
                       + "; ".join(e["message"] for e in errors))
    node = (payload.get("customer") or {}).get(NODES[channel]) or {}
    return str(node.get("marketingUpdatedAt") or "")


def _consents(client: GraphQLClient, customer: dict[str, Any],
              restriction: ProcessingRestriction, tally: _Tally) -> None:
    customer_id = customer["id"]
    if restriction.marketing:
        for channel, node_name in NODES.items():
            node = customer.get(node_name)
            if node and node["marketingState"] in SWITCHED_OFF:
                at = _set_consent(client, customer_id, channel, "UNSUBSCRIBED", "")
                tally.held.append(MarketingConsent(customer_id, channel, node["marketingState"],
                                                   node.get("marketingOptInLevel") or "", at))
        return
    for hold in restriction.restore:
        if hold.customer_id != customer_id:
            continue
        node = customer.get(NODES[hold.channel]) or {}
        still_ours = node.get("marketingState") == "UNSUBSCRIBED" and (
            not hold.changed_at or node.get("marketingUpdatedAt") == hold.changed_at)
        if still_ours:
            _set_consent(client, customer_id, hold.channel, hold.state, hold.opt_in_level)
            tally.restored.append(hold)
        else:
            tally.kept += 1
            tally.restored.append(hold)  # nothing to give back: the hold is done with


def _tags(client: GraphQLClient, customer: dict[str, Any],
          restriction: ProcessingRestriction, tally: _Tally) -> None:
    have = {t.lower() for t in customer.get("tags") or []}
    wanted = {TAGS[f] for f in restriction.flags if f in TAGS}
    add = sorted(t for t in wanted if t not in have)
    remove = sorted(t for t in TAGS.values() if t in have and t not in wanted)
    for operation, query, name, tags in (("TagsAdd", queries.TAGS_ADD, "tagsAdd", add),
                                         ("TagsRemove", queries.TAGS_REMOVE, "tagsRemove",
                                          remove)):
        if not tags:
            continue
        payload = client.execute(operation, query, {"id": customer["id"], "tags": tags})[
            name] or {}
        if payload.get("userErrors"):
            raise Rejected("Shopify refused the customer tags: "
                           + "; ".join(e["message"] for e in payload["userErrors"]))
    tally.tagged.update(add)
    tally.untagged.update(remove)


def _note(restriction: ProcessingRestriction, tally: _Tally) -> str:
    parts = []
    for channel in NODES:
        off = sum(1 for h in tally.held if h.channel == channel)
        back = sum(1 for h in tally.restored if h.channel == channel)
        if off:
            parts.append(f"{channel} marketing set to UNSUBSCRIBED on {off} record(s)")
        if back:
            parts.append(f"{channel} marketing given back as it was on {back} record(s)")
    if tally.kept:
        parts.append(f"{tally.kept} consent(s) changed on Shopify since the restriction were "
                     "left as they are")
    if restriction.marketing and not tally.held:
        parts.append("no marketing consent was subscribed there")
    if tally.tagged:
        parts.append("tagged " + ", ".join(sorted(tally.tagged)))
    if tally.untagged:
        parts.append("tag(s) removed: " + ", ".join(sorted(tally.untagged)))
    if not tally.tagged and not tally.untagged:
        parts.append("its privacy tags already said so" if restriction.flags
                     else "no privacy tag to remove")
    if restriction.flags and set(restriction.uses) - {"marketing"}:
        parts.append("Shopify has no setting that restricts other processing: the tag tells "
                     "the shop's staff and apps, Shopify itself does not enforce it")
    if tally.unknown:
        parts.append(f"{tally.unknown} record(s) no longer exist there")
    return f"Shopify ({tally.customers} customer record(s)): " + "; ".join(parts)


def restrict(client: GraphQLClient, subject: CustomerRef,
             restriction: ProcessingRestriction) -> RestrictionResult:
    """Mirror ``restriction`` on each Shopify customer record of the subject."""
    ids = customer_ids(client, subject)
    if not ids:
        return RestrictionResult(0, "Shopify has no customer record of this person: nothing "
                                    "to tell there")
    tally = _Tally()
    for customer_id in ids:
        customer = client.execute("CustomerConsent", queries.CUSTOMER_CONSENT,
                                  {"id": customer_id})["customer"]
        if customer is None:
            tally.unknown += 1
            continue
        tally.customers += 1
        _consents(client, customer, restriction, tally)
        _tags(client, customer, restriction, tally)
    return RestrictionResult(tally.customers, _note(restriction, tally),
                             held=tuple(tally.held), restored=tuple(tally.restored))
