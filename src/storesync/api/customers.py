"""``/api/v1/customers``: create, read, look up by email or phone."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import Principal, require
from storesync.api.errors import json_error
from storesync.api.orders import OrderPage, order_views
from storesync.api.schemas import Strict
from storesync.core.errors import ValidationError
from storesync.core.permissions import Perm
from storesync.customers import selectors, services
from storesync.customers.models import Customer
from storesync.orders import selectors as order_selectors
from storesync.privacy import consent
from storesync.privacy.restrictions import FLAGS_EXCLUDING, Restrictions, subject_restrictions
from storesync.security.access import Purpose

router = Router(tags=["customers"])


class AddressIn(Strict):
    line1: str = Field(max_length=255)
    line2: str = Field("", max_length=255)
    city: str = Field(max_length=255)
    postcode: str = Field("", max_length=16)
    province_code: str = Field("", max_length=8)
    country_code: str = Field(min_length=2, max_length=2)
    name: str = Field("", max_length=255)
    phone: str = Field("", max_length=32)


class ConsentGiven(Strict):
    state: str = Field(description="subscribed, unsubscribed or not_subscribed")
    opt_in_level: str = Field("single_opt_in",
                              description="single_opt_in, confirmed_opt_in or unknown")
    source: str = Field(max_length=64, description="where consent was collected, e.g. "
                        "checkout, pos, newsletter_form, shopify")
    consented_at: datetime | None = Field(None, description="when; default now")

    def as_input(self) -> services.ConsentInput:
        return services.ConsentInput(state=self.state, source=self.source,
                                     opt_in_level=self.opt_in_level,
                                     consented_at=self.consented_at)


class ConsentIn(ConsentGiven):
    channel: str = Field(description="email or sms")


class CustomerIn(Strict):
    first_name: str = Field("", max_length=255)
    last_name: str = Field("", max_length=255)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    note: str = Field("", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    address: AddressIn | None = None
    email_marketing_consent: ConsentGiven | None = None
    sms_marketing_consent: ConsentGiven | None = None


class AddressOut(Schema):
    id: uuid.UUID
    is_default: bool
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postcode: str | None = None
    phone: str | None = None
    province_code: str
    country_code: str


class ConsentOut(Schema):
    state: str = Field(description="subscribed, unsubscribed or not_subscribed")
    opt_in_level: str | None
    consented_at: datetime | None
    source: str | None


class CustomerOut(Schema):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    tags: list[str]
    version: int
    email_marketing_consent: ConsentOut
    sms_marketing_consent: ConsentOut
    restricted_uses: list[str] = Field(
        description="uses a restriction, objection or do-not-sell request excludes this "
                    "customer from (marketing, analytics, sync_personal_fields, "
                    "sale_or_sharing), whatever the marketing consent states say; see "
                    "GET /privacy/subjects/customer/{id}/consent for the request")
    personal_data: str = Field(
        description="`included`, or `withheld` when the token's role lacks view_personal_data"
    )
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    note: str | None = None
    addresses: list[AddressOut] | None = None


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


def _consent(customer: Customer, channel: str) -> dict[str, Any]:
    return {
        "state": getattr(customer, f"{channel}_marketing_state"),
        "opt_in_level": getattr(customer, f"{channel}_marketing_opt_in_level") or None,
        "consented_at": getattr(customer, f"{channel}_marketing_consent_at"),
        "source": getattr(customer, f"{channel}_marketing_source") or None,
    }


def etag(customer: Customer) -> str:
    return f'"v{customer.version}"'


def _restricted_uses(flags: Restrictions | None) -> list[str]:
    return [use for use in FLAGS_EXCLUDING if flags and getattr(flags, use)]


def _out(customers: list[Customer], who: Principal, purpose: Purpose) -> list[dict[str, Any]]:
    # One query for the page: a list filtered on marketing state is how a campaign audience
    # is pulled, so each customer says what a restriction forbids.
    flags = subject_restrictions(workspace_id=who.workspace_id,
                                 customer_ids=[c.id for c in customers])
    base = [
        {"id": c.id, "created_at": c.created_at, "updated_at": c.updated_at, "tags": c.tags,
         "version": c.version, "email_marketing_consent": _consent(c, "email"),
         "sms_marketing_consent": _consent(c, "sms"),
         "restricted_uses": _restricted_uses(flags.get(c.id))}
        for c in customers
    ]
    if Perm.VIEW_PERSONAL_DATA not in who.permissions:
        return [{**b, "personal_data": "withheld"} for b in base]
    views = selectors.customer_reveal(customers=customers, actor=who.actor, purpose=purpose)
    return [{**b, **v, "personal_data": "included"} for b, v in zip(base, views, strict=True)]


@router.post("", response={201: CustomerOut}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    data = payload.model_dump(exclude={"email_marketing_consent", "sms_marketing_consent"})
    address = data.pop("address")
    email_consent, sms_consent = payload.email_marketing_consent, payload.sms_marketing_consent
    customer = services.customer_create(
        workspace_id=who.workspace_id,
        data=services.CustomerInput(
            **data, address=services.AddressInput(**address) if address else None,
            email_marketing=email_consent.as_input() if email_consent else None,
            sms_marketing=sms_consent.as_input() if sms_consent else None,
        ),
        actor=who.actor,
    )
    # Echo back only what the caller may see; the values it sent are not re-read unaudited.
    fresh = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer.id)
    return Status(201, _out([fresh], who, Purpose.ACCOUNT_MANAGEMENT)[0])


@router.get("", response=CustomerPage,
            summary="List customers (filter by tag or marketing consent), or look one up by "
                    "email or phone")
def list_customers(
    request: HttpRequest,
    email: str | None = Query(None, max_length=254),
    phone: str | None = Query(None, max_length=32),
    cursor: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=200),
    purpose: Purpose = Query(Purpose.CUSTOMER_SUPPORT),
    tag: str | None = Query(None, max_length=40),
    email_marketing_state: str | None = Query(None, max_length=16),
    sms_marketing_state: str | None = Query(None, max_length=16),
) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS)
    if email or phone:
        # Matching on an email or phone is itself a use of personal data.
        require(request, Perm.VIEW_PERSONAL_DATA)
        if cursor:
            raise ValidationError("a lookup returns one page; drop the cursor", field="cursor")
        found = selectors.customer_find(workspace_id=who.workspace_id, email=email, phone=phone)
        return {"items": _out(found, who, purpose), "next_cursor": None}
    page = selectors.customer_list(
        workspace_id=who.workspace_id, cursor=cursor, limit=limit, tag=tag,
        email_marketing_state=email_marketing_state, sms_marketing_state=sms_marketing_state)
    return {"items": _out(page.items, who, purpose), "next_cursor": page.next_cursor}


@router.get("/{customer_id}", response=CustomerOut, summary="Read a customer (with an ETag)")
def get_customer(
    request: HttpRequest,
    response: HttpResponse,
    customer_id: str,
    purpose: Purpose = Query(Purpose.CUSTOMER_SUPPORT),
) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS)
    customer = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer_id)
    response["ETag"] = etag(customer)
    return _out([customer], who, purpose)[0]


class CustomerPatch(Strict):
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=32)
    note: str | None = Field(None, max_length=5000)
    tags: list[str] | None = Field(None, max_length=50)


@router.patch(
    "/{customer_id}",
    response={200: CustomerOut, 412: dict},
    summary="Change a customer's contact fields or tags; If-Match refuses stale writes",
)
def update_customer(
    request: HttpRequest, response: HttpResponse, customer_id: str, payload: CustomerPatch
) -> Any:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    customer = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer_id)
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationError("nothing to change", field="body")
    if any(v is None for v in changes.values()):
        raise ValidationError(
            "send an empty string (or list) to clear a field",
            field=next(k for k, v in changes.items() if v is None),
        )
    expected = None
    if_match = request.headers.get("If-Match")
    if if_match:
        if if_match.strip() != etag(customer):
            return json_error(412, "precondition_failed",
                              "the customer changed since you read it (ETag mismatch)",
                              "If-Match")
        expected = customer.version
    services.customer_update(
        workspace_id=who.workspace_id, customer_id=customer.id, changes=changes,
        actor=who.actor, expected_version=expected,
    )
    fresh = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer.id)
    response["ETag"] = etag(fresh)
    return _out([fresh], who, Purpose.ACCOUNT_MANAGEMENT)[0]


@router.post(
    "/{customer_id}/marketing-consent",
    response=CustomerOut,
    summary="Record email or SMS marketing consent (state, opt-in level, time, source)",
)
def set_marketing_consent(
    request: HttpRequest, response: HttpResponse, customer_id: str, payload: ConsentIn
) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CUSTOMERS)
    customer = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer_id)
    # Through the privacy engine: the consent ledger records the decision too.
    consent.marketing_consent_set(
        workspace_id=who.workspace_id, customer_id=customer.id, channel=payload.channel,
        consent=payload.as_input(), actor=who.actor,
    )
    fresh = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer.id)
    response["ETag"] = etag(fresh)
    return _out([fresh], who, Purpose.ACCOUNT_MANAGEMENT)[0]


@router.get(
    "/{customer_id}/orders",
    response=OrderPage,
    summary="A customer's orders, newest first",
)
def customer_orders(
    request: HttpRequest,
    customer_id: str,
    cursor: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=200),
    purpose: Purpose = Query(Purpose.CUSTOMER_SUPPORT),
) -> dict[str, Any]:
    who = require(request, Perm.VIEW_CUSTOMERS, Perm.VIEW_ORDERS)
    customer = selectors.customer_get(workspace_id=who.workspace_id, customer_id=customer_id)
    page = order_selectors.order_list(workspace_id=who.workspace_id, customer_id=customer.id,
                                      cursor=cursor, limit=limit)
    return {"items": order_views(page.items, who, purpose), "next_cursor": page.next_cursor}
