"""Privacy on Shopify: erase a customer, push corrected contact fields.

- Erasure is ``customerRequestDataErasure(customerId:)`` (GraphQL Admin API): it enqueues the
  same erasure the Admin's "Erase personal data" starts; Shopify carries it out after its
  own waiting period and cannot be made to go faster. Its ``userErrors`` carry a
  ``CustomerRequestDataErasureErrorCode``: ``DOES_NOT_EXIST`` (nothing to erase: a success
  for us, with a note) or ``FAILED_TO_REQUEST`` (Shopify refused now: retried later).
- Correction is ``customerUpdate(input: CustomerInput)``, only the fields that changed.
- Without a known customer id the customer is looked up with the documented search syntax,
  ``customers(query: "email:...")``.
"""

from __future__ import annotations

from storesync.channels.connectors.base import (
    ChannelError,
    ContactCorrection,
    CustomerRef,
    PrivacyResult,
    Rejected,
)
from storesync.channels.connectors.shopify import queries
from storesync.channels.connectors.shopify.client import GraphQLClient

CUSTOMER_GID = "gid://shopify/Customer/"


def customer_ids(client: GraphQLClient, subject: CustomerRef) -> list[str]:
    ids = [c for c in subject.customer_ids if c.startswith(CUSTOMER_GID)]
    if ids or not subject.email:
        return sorted(set(ids))
    # Quoted, with quotes and backslashes escaped, so the address is one search value.
    value = subject.email.replace("\\", "\\\\").replace('"', '\\"')
    data = client.execute("CustomersByEmail", queries.CUSTOMERS_BY_EMAIL,
                          {"query": f'email:"{value}"'})
    return sorted({node["id"] for node in data["customers"]["nodes"]})


def erase(client: GraphQLClient, subject: CustomerRef) -> PrivacyResult:
    """Request Shopify's erasure of every customer record of the subject."""
    ids = customer_ids(client, subject)
    if not ids:
        return PrivacyResult(0, "Shopify has no customer record of this person: nothing to "
                                "erase there")
    requested, unknown = 0, 0
    for customer_id in ids:
        data = client.execute("CustomerErasure", queries.CUSTOMER_ERASURE,
                              {"customerId": customer_id})
        payload = data["customerRequestDataErasure"] or {}
        errors = payload.get("userErrors") or []
        codes = {e.get("code") for e in errors}
        if "DOES_NOT_EXIST" in codes:
            unknown += 1
        elif errors:
            raise ChannelError("Shopify refused the erasure request: "
                               + "; ".join(e["message"] for e in errors))
        else:
            requested += 1
    note = f"Shopify accepted the erasure of {requested} customer record(s)"
    if unknown:
        note += f"; {unknown} no longer exist(s) there"
    return PrivacyResult(requested, note)


def correct(client: GraphQLClient, subject: CustomerRef,
            correction: ContactCorrection) -> PrivacyResult:
    """``customerUpdate`` of each customer record with the corrected fields."""
    fields = {"first_name": "firstName", "last_name": "lastName", "email": "email",
              "phone": "phone"}
    changes = {fields[k]: v for k, v in correction.changed().items()}
    ids = customer_ids(client, subject)
    if not ids or not changes:
        return PrivacyResult(0, "Shopify has no customer record of this person: nothing to "
                                "correct there")
    for customer_id in ids:
        data = client.execute("CustomerUpdate", queries.CUSTOMER_UPDATE,
                              {"input": {"id": customer_id, **changes}})
        payload = data["customerUpdate"] or {}
        errors = payload.get("userErrors") or []
        if errors:
            raise Rejected("Shopify refused the correction: "
                           + "; ".join(e["message"] for e in errors))
    return PrivacyResult(len(ids), f"Shopify updated {len(ids)} customer record(s)")
