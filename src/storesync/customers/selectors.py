"""Reads for customers. Personal fields are only revealed through ``customer_reveal``."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q

from storesync.core import lookups  # noqa: F401  (registers ``has_tag``)
from storesync.core.errors import NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Address, Customer, MarketingState, normalise_phone
from storesync.security.access import personal_data_access
from storesync.security.audit import Actor

PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "note")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postcode", "phone")


def customer_get(*, workspace_id: uuid.UUID, customer_id: uuid.UUID | str) -> Customer:
    """The customer, or NotFound (also for another workspace's id or a malformed id)."""
    cid = parse_id(customer_id, what="customer")
    with workspace_scope(workspace_id):
        customer = Customer.objects.filter(id=cid).prefetch_related("addresses").first()
    if customer is None:
        raise NotFound("no such customer")
    return customer


def customer_find(
    *, workspace_id: uuid.UUID, email: str | None = None, phone: str | None = None
) -> list[Customer]:
    """Exact lookup by email and/or phone through the blind indexes (no decryption)."""
    email_field = Customer._meta.get_field("email_bidx")
    phone_field = Customer._meta.get_field("phone_bidx")
    condition = Q()
    if email:
        condition |= Q(email_bidx__in=email_field.candidates(Customer, workspace_id, email))
    if phone:
        digits = normalise_phone(phone)
        condition |= Q(phone_bidx__in=phone_field.candidates(Customer, workspace_id, digits))
    if not condition:
        return []
    with workspace_scope(workspace_id):
        return list(Customer.objects.filter(condition).prefetch_related("addresses")[:50])


def customer_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
                  tag: str | None = None, email_marketing_state: str | None = None,
                  sms_marketing_state: str | None = None) -> Page[Customer]:
    """Newest first, keyset-paginated on the (time-ordered) id; optionally only customers
    with a tag (any case) or a marketing consent state (e.g. an audience for a campaign)."""
    for name, state in (("email_marketing_state", email_marketing_state),
                        ("sms_marketing_state", sms_marketing_state)):
        if state is not None and state not in MarketingState.values:
            raise ValidationError(f"one of {', '.join(MarketingState.values)}", field=name)
    with workspace_scope(workspace_id):
        queryset = Customer.objects.prefetch_related("addresses")
        if tag:
            queryset = queryset.filter(tags__has_tag=tag.strip())
        if email_marketing_state:
            queryset = queryset.filter(email_marketing_state=email_marketing_state)
        if sms_marketing_state:
            queryset = queryset.filter(sms_marketing_state=sms_marketing_state)
        return keyset_page(queryset, cursor=cursor, limit=limit)


def _address_view(address: Address) -> dict[str, Any]:
    view: dict[str, Any] = {name: getattr(address, name) for name in ADDRESS_FIELDS}
    view.update(
        id=address.id,
        province_code=address.province_code,
        country_code=address.country_code,
        is_default=address.is_default,
    )
    return view


def customer_reveal(
    *,
    customers: list[Customer],
    actor: Actor,
    purpose: str,
    fields: tuple[str, ...] = PERSONAL_FIELDS,
    with_addresses: bool = True,
) -> list[dict[str, Any]]:
    """Decrypt the named fields of these customers; writes one audit event per customer."""
    if not customers:
        return []
    workspace_id = customers[0].workspace_id
    out = []
    with personal_data_access(actor=actor, workspace_id=workspace_id, purpose=purpose):
        for customer in customers:
            view: dict[str, Any] = {name: getattr(customer, name) for name in fields}
            if with_addresses:
                view["addresses"] = [_address_view(a) for a in customer.addresses.all()]
            out.append(view)
    return out
