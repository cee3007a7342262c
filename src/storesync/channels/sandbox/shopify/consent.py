"""Marketing consent and tags of the simulated shop's customers (GraphQL Admin API 2026-04).

- ``customerEmailMarketingConsentUpdate(input: {customerId, emailMarketingConsent:
  {marketingState, marketingOptInLevel, consentUpdatedAt, sourceLocationId}})``: the customer
  must have an email address. Only ``SUBSCRIBED``, ``UNSUBSCRIBED`` and ``PENDING`` may be
  set; ``NOT_SUBSCRIBED``, ``REDACTED`` and ``INVALID`` are read-only states and are refused
  (``INCLUSION``), as the mutation's reference says.
- ``customerSmsMarketingConsentUpdate(input: {customerId, smsMarketingConsent: {...}})``: the
  customer must have a phone number; ``REDACTED`` is internally set and refused.
- Both: "the customer's consent state reflects the consent record with the most recent date",
  so a ``consentUpdatedAt`` older than the current record is kept out of the state; without
  one the time of the call is used. A date in the future is ``INVALID``. The
  ``privacy_refuse`` fault answers ``INTERNAL_ERROR`` instead.
- ``tagsAdd`` / ``tagsRemove(id, tags)``: each string may itself be a comma-separated list;
  tags are compared without case; a tag holds at most 255 characters and a customer at most
  250 tags. Only customers are taggable here (the simulator keeps no tags on other objects).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphql import GraphQLResolveInfo

from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.resolvers import Context

SETTABLE = {"email": {"SUBSCRIBED", "UNSUBSCRIBED", "PENDING"},
            "sms": {"SUBSCRIBED", "UNSUBSCRIBED", "PENDING", "NOT_SUBSCRIBED"}}
MAX_TAG_LENGTH = 255
MAX_TAGS = 250


def _ctx(info: GraphQLResolveInfo) -> Context:
    ctx: Context = info.context
    return ctx


def _error(code: str, field: list[str], message: str) -> dict[str, Any]:
    return {"customer": None, "userErrors": [{"code": code, "field": field,
                                              "message": message}]}


def _when(value: Any, field: list[str]) -> tuple[datetime | None, dict[str, Any] | None]:
    """(the consent's date, None) or (None, the error payload)."""
    if value is None:
        return None, None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None, _error("INVALID", field, "Consent updated at is invalid")
    if when.tzinfo is None:
        return None, _error("INVALID", field, "Consent updated at must include a time zone")
    if when > st.now():
        return None, _error("INVALID", field, "Consent updated at cannot be in the future")
    return when, None


def _update(info: GraphQLResolveInfo, given: dict[str, Any], channel: str) -> Any:
    ctx = _ctx(info)
    key = "emailMarketingConsent" if channel == "email" else "smsMarketingConsent"
    consent = given[key]
    path = ["input", key]
    if ctx.refuse_privacy():
        return _error("INTERNAL_ERROR", ["input", "customerId"],
                      "Customer could not be updated, try again later")
    state = consent["marketingState"]
    if state not in SETTABLE[channel]:
        return _error("INCLUSION", [*path, "marketingState"],
                      f"Marketing state {state} is not included in the list: set "
                      f"{', '.join(sorted(SETTABLE[channel]))}")
    when, problem = _when(consent.get("consentUpdatedAt"), [*path, "consentUpdatedAt"])
    if problem:
        return problem
    location = consent.get("sourceLocationId")
    with ctx.shop.lock:
        number = st.parse_gid(given["customerId"], "Customer")
        customer = ctx.shop.customers.get(number) if number is not None else None
        if customer is None:
            return _error("INVALID", ["input", "customerId"], "Customer not found")
        if channel == "email" and not customer.email:
            return _error("INVALID", ["input", "customerId"],
                          "Customer must have an email address to update email marketing "
                          "consent")
        if channel == "sms" and not customer.phone:
            return _error("INVALID", ["input", "customerId"],
                          "Customer must have a phone number to update SMS marketing consent")
        if location is not None and st.parse_gid(location, "Location") not in \
                ctx.shop.locations:
            return _error("INVALID", [*path, "sourceLocationId"], "Location not found")
        current = customer.email_marketing if channel == "email" else customer.sms_marketing
        stamp = when or st.now()
        # The most recent record wins: an older one is accepted but does not change the state.
        if current.updated_at is None or stamp >= current.updated_at:
            level = consent.get("marketingOptInLevel") or current.opt_in_level
            fresh = st.MarketingConsent(state, level, stamp)
            if channel == "email":
                customer.email_marketing = fresh
            else:
                customer.sms_marketing = fresh
            customer.updated_at = st.now()
    return {"customer": customer, "userErrors": []}


def email_consent_update(_: None, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return _update(info, input, "email")


def sms_consent_update(_: None, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    return _update(info, input, "sms")


def _split(tags: list[str]) -> list[str]:
    return [t.strip() for value in tags for t in value.split(",") if t.strip()]


def _tagged(info: GraphQLResolveInfo, id: str, tags: list[str], *, add: bool) -> Any:
    shop = _ctx(info).shop
    wanted = _split(tags)
    if not wanted:
        return {"node": None, "userErrors": [{"field": ["tags"],
                                              "message": "Tags can't be blank"}]}
    too_long = next((t for t in wanted if len(t) > MAX_TAG_LENGTH), None)
    if too_long is not None:
        return {"node": None, "userErrors": [{
            "field": ["tags"],
            "message": f"Tags is too long (maximum is {MAX_TAG_LENGTH} characters)"}]}
    with shop.lock:
        number = st.parse_gid(id, "Customer")
        customer = shop.customers.get(number) if number is not None else None
        if customer is None:
            return {"node": None, "userErrors": [{"field": ["id"],
                                                  "message": "Resource not found"}]}
        have = {t.lower() for t in customer.tags}
        if add:
            fresh = []
            for tag in wanted:
                if tag.lower() not in have:
                    have.add(tag.lower())
                    fresh.append(tag)
            if len(customer.tags) + len(fresh) > MAX_TAGS:
                return {"node": None, "userErrors": [{
                    "field": ["tags"],
                    "message": f"Tags cannot be more than {MAX_TAGS}"}]}
            customer.tags.extend(fresh)
        else:
            gone = {t.lower() for t in wanted}
            customer.tags = [t for t in customer.tags if t.lower() not in gone]
        customer.updated_at = st.now()
    return {"node": customer, "userErrors": []}


def tags_add(_: None, info: GraphQLResolveInfo, id: str, tags: list[str]) -> Any:
    return _tagged(info, id, tags, add=True)


def tags_remove(_: None, info: GraphQLResolveInfo, id: str, tags: list[str]) -> Any:
    return _tagged(info, id, tags, add=False)


MUTATIONS: dict[str, Callable[..., Any]] = {
    "customerEmailMarketingConsentUpdate": email_consent_update,
    "customerSmsMarketingConsentUpdate": sms_consent_update,
    "tagsAdd": tags_add,
    "tagsRemove": tags_remove,
}
