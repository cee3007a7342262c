"""A restriction of processing (GDPR Art. 18, told per Art. 19) recorded on WooCommerce.

WooCommerce core has neither a restriction of processing nor a marketing consent (newsletters
are plugins'), and REST API v3 offers nothing to enforce one. What the documented API can do,
and all storesync claims (ADR 0025):

- each account of the subject gets the customer meta ``storesync_privacy_restriction``
  (``PUT /customers/<id>`` with ``meta_data``; a key without a leading underscore, since core
  skips protected keys) saying what stands, or that nothing does once lifted;
- each of the subject's orders the hub imported gets a private order note
  (``POST /orders/<id>/notes``, ``customer_note: false``, so the buyer is not emailed) that the
  shop's staff see on the order. A note already there with the same text is not added again,
  so a retried propagation leaves one note.

The note on the propagation says exactly that: recorded for the shop's staff, enforced by
nothing in WooCommerce. An account or order the store no longer has (404) is skipped.
"""

from __future__ import annotations

from storesync.channels.connectors.base import (
    CustomerRef,
    ProcessingRestriction,
    Rejected,
    RestrictionResult,
)
from storesync.channels.connectors.woocommerce.client import WooClient
from storesync.channels.connectors.woocommerce.customers import customer_ids, gone

META_KEY = "storesync_privacy_restriction"
FLAG_WORDS = {"restricted": "restriction of processing (GDPR Art. 18)",
              "objected": "objection to marketing and analytics (GDPR Art. 21)",
              "do_not_sell": "opt-out of sale or sharing (CCPA)"}
USE_WORDS = {"marketing": "marketing", "analytics": "analytics or profiling",
             "sync_personal_fields": "syncing personal details to other systems",
             "sale_or_sharing": "sale or sharing with third parties"}


def record_text(restriction: ProcessingRestriction) -> str:
    """What the meta and the order note say (no personal data: flags, uses, a request id)."""
    reference = f"privacy request {restriction.reference}"
    if not restriction.flags:
        return f"Nothing restricted: lifted by {reference}. This customer's data may be used " \
               "as their consent allows."
    flags = "; ".join(FLAG_WORDS.get(f, f) for f in sorted(restriction.flags))
    uses = ", ".join(USE_WORDS.get(u, u) for u in restriction.uses)
    return f"{flags} ({reference}): do not use this customer's data for {uses}. Keep it " \
           "stored; storesync says when it is lifted."


def _mark_account(client: WooClient, customer: int, text: str) -> bool:
    try:
        client.request("PUT", f"/customers/{customer}",
                       body={"meta_data": [{"key": META_KEY, "value": text}]})
    except Rejected as error:
        if gone(error):
            return False
        raise
    return True


def _note_order(client: WooClient, order_id: int, text: str) -> bool:
    try:
        notes = client.request("GET", f"/orders/{order_id}/notes", params={"type": "internal"})
        if not any(n.get("note") == text for n in notes or []):
            client.request("POST", f"/orders/{order_id}/notes",
                           body={"note": text, "customer_note": False})
    except Rejected as error:
        if gone(error):
            return False
        raise
    return True


def restrict(client: WooClient, subject: CustomerRef,
             restriction: ProcessingRestriction) -> RestrictionResult:
    """Record ``restriction`` on the subject's accounts and imported orders."""
    text = record_text(restriction)
    accounts = sum(1 for customer in customer_ids(client, subject)
                   if _mark_account(client, customer, text))
    orders = sum(1 for order in sorted({int(o) for o in subject.order_ids if o.isdigit()})
                 if _note_order(client, order, text))
    if not accounts and not orders:
        return RestrictionResult(0, "WooCommerce has no order or account of this person: "
                                    "nothing to tell there")
    return RestrictionResult(
        accounts + orders,
        f"WooCommerce has no restriction or marketing-consent setting: recorded as customer "
        f"meta {META_KEY} on {accounts} account(s) and as a private note on {orders} "
        "order(s) for the shop's staff; WooCommerce itself does not enforce it")
