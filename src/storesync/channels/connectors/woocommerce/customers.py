"""Privacy on WooCommerce through REST API v3: anonymise orders, delete the account, correct.

The REST API has no "erase personal data" endpoint (core's erasers run only from the
WordPress admin's privacy tools). What the documented API allows, and what storesync does
(ADR 0019):

1. every order of the subject — the ones the hub imported, plus ``GET /orders?customer=<id>``
   for each known customer — gets ``PUT /orders/<id>`` with billing and shipping replaced by
   the values core's own eraser (``WC_Privacy::remove_order_personal_data``) writes: text
   ``[deleted]`` (``wp_privacy_anonymize_data('text')``), email ``deleted@site.invalid``,
   phone digits as ``0``, state and country empty; ``customer_id`` 0 and the meta
   ``_anonymized = yes``, as core sets them;
2. each customer account is deleted, ``DELETE /customers/<id>?force=true`` (customers cannot
   be trashed: without ``force`` core answers 501 ``woocommerce_rest_trash_not_supported``).
   A WordPress user's email is required and unique, so the account cannot be anonymised in
   place; deleting it keeps the orders (now anonymised) and removes login, names and
   addresses.

An order or customer the store no longer has (404) counts as done. Correction is
``PUT /customers/<id>`` with the changed fields (and the billing copy of name, email and
phone); past orders keep the contact they were placed with, as WooCommerce itself does.
Without a known id, ``GET /customers?email=`` finds the account (documented filter).
"""

from __future__ import annotations

import re
from typing import Any

from storesync.channels.connectors.base import (
    ContactCorrection,
    CustomerRef,
    PrivacyResult,
    Rejected,
)
from storesync.channels.connectors.woocommerce.client import WooClient

DELETED_TEXT = "[deleted]"
DELETED_EMAIL = "deleted@site.invalid"
TEXT_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city",
               "postcode")


def anonymised(address: dict[str, Any], *, billing: bool) -> dict[str, Any]:
    """Billing or shipping as core's order eraser leaves them (empty values stay empty)."""
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        out[name] = DELETED_TEXT if address.get(name) else ""
    out["state"], out["country"] = "", ""
    if "phone" in address or billing:
        out["phone"] = re.sub(r"\d", "0", str(address.get("phone") or ""))
    if billing:
        out["email"] = DELETED_EMAIL if address.get("email") else ""
    return out


def gone(error: Rejected) -> bool:
    return error.status in (404, 410)


def customer_ids(client: WooClient, subject: CustomerRef) -> list[int]:
    ids = {int(c) for c in subject.customer_ids if c.isdigit() and int(c) > 0}
    if not ids and subject.email:
        for page in client.pages("/customers", {"email": subject.email, "role": "all"}):
            ids |= {int(c["id"]) for c in page.items}
    return sorted(ids)


def _order_ids(client: WooClient, subject: CustomerRef, customers: list[int]) -> list[int]:
    ids = {int(o) for o in subject.order_ids if o.isdigit()}
    for customer in customers:
        for page in client.pages("/orders", {"customer": customer, "status": "any"}):
            ids |= {int(o["id"]) for o in page.items}
    return sorted(ids)


def _anonymise_order(client: WooClient, order_id: int) -> bool:
    try:
        order = client.request("GET", f"/orders/{order_id}")
        client.request("PUT", f"/orders/{order_id}", body={
            "billing": anonymised(order.get("billing") or {}, billing=True),
            "shipping": anonymised(order.get("shipping") or {}, billing=False),
            "customer_id": 0, "meta_data": [{"key": "_anonymized", "value": "yes"}]})
    except Rejected as error:
        if gone(error):
            return False
        raise
    return True


def erase(client: WooClient, subject: CustomerRef) -> PrivacyResult:
    """Anonymise the subject's orders, then delete their accounts."""
    customers = customer_ids(client, subject)
    orders = _order_ids(client, subject, customers)
    anonymised_orders = sum(1 for order_id in orders if _anonymise_order(client, order_id))
    deleted = 0
    for customer in customers:
        try:
            client.request("DELETE", f"/customers/{customer}", params={"force": "true"})
            deleted += 1
        except Rejected as error:
            if not gone(error):
                raise
    if not anonymised_orders and not deleted:
        return PrivacyResult(0, "WooCommerce has no order or account of this person: "
                                "nothing to erase there")
    return PrivacyResult(anonymised_orders + deleted,
                         f"WooCommerce: {anonymised_orders} order(s) anonymised, "
                         f"{deleted} account(s) deleted")


def correct(client: WooClient, subject: CustomerRef,
            correction: ContactCorrection) -> PrivacyResult:
    """``PUT /customers/<id>`` with the corrected fields, on each account of the subject."""
    changes = correction.changed()
    customers = customer_ids(client, subject)
    if not customers or not changes:
        return PrivacyResult(0, "WooCommerce has no account of this person: nothing to "
                                "correct there")
    body: dict[str, Any] = {k: v for k, v in changes.items() if k != "phone"}
    body["billing"] = dict(changes)
    updated = 0
    for customer in customers:
        try:
            client.request("PUT", f"/customers/{customer}", body=body)
            updated += 1
        except Rejected as error:
            if not gone(error):
                raise
    if not updated:
        return PrivacyResult(0, "WooCommerce no longer has this account: nothing to correct")
    return PrivacyResult(updated, f"WooCommerce updated {updated} account(s)")
