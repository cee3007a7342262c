"""Writes for customers. Personal fields are validated and normalised here, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address, validate_phone_number
from storesync.customers.models import Address, Customer, MarketingState, OptInLevel
from storesync.customers.signals import (
    ChannelConsent,
    MarketingConsentGiven,
    send_marketing_consent_given,
)
from storesync.security import audit

MAX_TEXT = 255
MAX_NOTE = 5000
MAX_TAGS = 50


@dataclass
class AddressInput:
    line1: str
    city: str
    postcode: str
    country_code: str = "IN"
    line2: str = ""
    province_code: str = ""
    name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ConsentInput:
    """One channel's marketing consent, as Shopify's ``emailMarketingConsent``."""

    state: str
    source: str
    opt_in_level: str = OptInLevel.SINGLE_OPT_IN
    consented_at: datetime | None = None  # when the customer said so; default: now


@dataclass
class CustomerInput:
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    note: str = ""
    tags: list[str] = field(default_factory=list)
    address: AddressInput | None = None
    email_marketing: ConsentInput | None = None  # consent given with the details, if any
    sms_marketing: ConsentInput | None = None


def _text(value: str, *, field: str, limit: int = MAX_TEXT) -> str | None:
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"at most {limit} characters", field=field)
    return value or None


def _clean_tags(tags: Sequence[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags", field="tags")
    cleaned = sorted({t.strip() for t in tags if t.strip()})
    if any(len(t) > 40 for t in cleaned):
        raise ValidationError("a tag is at most 40 characters", field="tags")
    return cleaned


def _customer_values(workspace_id: uuid.UUID, region: str, data: CustomerInput) -> dict[str, Any]:
    """The validated columns of a new customer, personal fields still in clear (the model's
    fields encrypt them on save). Also what the encryption benchmark's plain-text baseline
    stores, so that both sides do the same validation work."""
    if not (
        data.email.strip()
        or data.phone.strip()
        or data.first_name.strip()
        or data.last_name.strip()
    ):
        raise ValidationError(
            "a customer needs at least a name, an email or a phone", field="email"
        )
    return {
        "workspace_id": workspace_id,
        "first_name": _text(data.first_name, field="first_name"),
        "last_name": _text(data.last_name, field="last_name"),
        "email": validate_email_address(data.email, field="email")
        if data.email.strip() else None,
        "phone": validate_phone_number(data.phone, field="phone", region=region)
        if data.phone.strip()
        else None,
        "note": _text(data.note, field="note", limit=MAX_NOTE),
        "tags": _clean_tags(data.tags),
    }


def _apply_given_consents(customer: Any, data: CustomerInput) -> None:
    for channel, consent, contact in (("email", data.email_marketing, data.email),
                                      ("sms", data.sms_marketing, data.phone)):
        if consent is not None:
            _apply_consent(customer, channel, _checked_consent(channel, consent),
                           has_contact=bool(contact.strip()))


def _build_customer(workspace_id: uuid.UUID, region: str, data: CustomerInput) -> Customer:
    customer = Customer(**_customer_values(workspace_id, region, data))
    _apply_given_consents(customer, data)
    return customer


def _created_consent_detail(customer: Customer, data: CustomerInput) -> dict[str, Any]:
    """Consent given with the customer's details is recorded with its creation (the proof)."""
    detail: dict[str, Any] = {}
    for channel, given in (("email", data.email_marketing), ("sms", data.sms_marketing)):
        if given is not None:
            detail[f"{channel}_marketing_consent"] = _consent_detail(ConsentInput(
                state=getattr(customer, f"{channel}_marketing_state"),
                opt_in_level=getattr(customer, f"{channel}_marketing_opt_in_level"),
                source=getattr(customer, f"{channel}_marketing_source"),
                consented_at=getattr(customer, f"{channel}_marketing_consent_at")))
    return detail


def _consent_given(customer: Customer, data: CustomerInput) -> MarketingConsentGiven | None:
    """The consents given with a new customer's details, as the signal carries them."""
    channels = tuple(
        ChannelConsent(channel=channel, state=getattr(customer, f"{channel}_marketing_state"),
                       source=getattr(customer, f"{channel}_marketing_source"),
                       opt_in_level=getattr(customer, f"{channel}_marketing_opt_in_level"),
                       consented_at=getattr(customer, f"{channel}_marketing_consent_at"))
        for channel, given in (("email", data.email_marketing), ("sms", data.sms_marketing))
        if given is not None)
    if not channels:
        return None
    return MarketingConsentGiven(customer_id=customer.id, channels=channels, at_creation=True)


def _address_values(workspace_id: uuid.UUID, data: AddressInput) -> dict[str, Any]:
    """The validated columns of a new default address (see ``_customer_values``)."""
    prefix = "address."
    country = data.country_code.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("a two-letter ISO 3166 country code", field=prefix + "country_code")
    if not data.line1.strip():
        raise ValidationError("required", field=prefix + "line1")
    if not data.city.strip():
        raise ValidationError("required", field=prefix + "city")
    return {
        "workspace_id": workspace_id,
        "is_default": True,
        "name": _text(data.name, field=prefix + "name"),
        "line1": _text(data.line1, field=prefix + "line1"),
        "line2": _text(data.line2, field=prefix + "line2"),
        "city": _text(data.city, field=prefix + "city"),
        "postcode": _text(data.postcode, field=prefix + "postcode", limit=16),
        "phone": validate_phone_number(data.phone, field=prefix + "phone", region=country)
        if data.phone.strip()
        else None,
        "province_code": _text(data.province_code, field=prefix + "province_code", limit=8)
        or "",
        "country_code": country,
    }


def _build_address(customer: Customer, data: AddressInput) -> Address:
    return Address(customer=customer, **_address_values(customer.workspace_id, data))


def _region(workspace_id: uuid.UUID) -> str:
    return (
        Workspace.objects.filter(id=workspace_id).values_list("country", flat=True).first() or "IN"
    )


def customer_create(
    *, workspace_id: uuid.UUID, data: CustomerInput, actor: audit.Actor
) -> Customer:
    """Validate and store one customer (and a default address), encrypted, in one transaction."""
    region = _region(workspace_id)
    with workspace_scope(workspace_id):
        customer = _build_customer(workspace_id, region, data)
        address = _build_address(customer, data.address) if data.address else None
        with transaction.atomic():
            customer.save(force_insert=True)
            if address is not None:
                address.save(force_insert=True)
            audit.record(
                action=audit.Action.CUSTOMER_CREATED,
                actor=actor,
                workspace_id=workspace_id,
                subject_type="customer",
                subject_id=customer.id,
                detail=_created_consent_detail(customer, data),
            )
            given = _consent_given(customer, data)
            send_marketing_consent_given(workspace_id=workspace_id, actor=actor,
                                         given=[given] if given else [])
    return customer


def customers_bulk_create(
    *,
    workspace_id: uuid.UUID,
    rows: Sequence[CustomerInput],
    actor: audit.Actor,
    batch_size: int = 1000,
) -> int:
    """Validate every row first, then insert all in one transaction (imports, demo data)."""
    region = _region(workspace_id)
    with workspace_scope(workspace_id):
        customers, addresses, given = [], [], []
        for index, data in enumerate(rows):
            try:
                customer = _build_customer(workspace_id, region, data)
                customers.append(customer)
                consent = _consent_given(customer, data)
                if consent is not None:
                    given.append(consent)
                if data.address:
                    addresses.append(_build_address(customer, data.address))
            except ValidationError as exc:
                raise ValidationError(f"row {index + 1}: {exc.message}", field=exc.field) from None
        with transaction.atomic():
            Customer.objects.bulk_create(customers, batch_size=batch_size)
            Address.objects.bulk_create(addresses, batch_size=batch_size)
            audit.record(
                action=audit.Action.CUSTOMER_CREATED,
                actor=actor,
                workspace_id=workspace_id,
                subject_type="customer",
                detail={"bulk": len(customers)},
            )
            send_marketing_consent_given(workspace_id=workspace_id, actor=actor, given=given)
    return len(customers)


def _changed_value(name: str, raw: Any, region: str) -> Any:
    if name == "tags":
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise ValidationError("a list of tags", field="tags")
        return _clean_tags(raw)
    if not isinstance(raw, str):
        raise ValidationError("a string", field=name)
    if name == "email":
        return validate_email_address(raw, field="email") if raw.strip() else None
    if name == "phone":
        return validate_phone_number(raw, field="phone", region=region) if raw.strip() else None
    return _text(raw, field=name, limit=MAX_NOTE if name == "note" else MAX_TEXT)


def customer_update(
    *,
    workspace_id: uuid.UUID,
    customer_id: uuid.UUID,
    changes: dict[str, Any],
    actor: audit.Actor,
    expected_version: int | None = None,
) -> Customer:
    """Change contact fields and tags; only the fields named in ``changes`` are touched.

    With ``expected_version``, a write based on a stale read is a Conflict, not a lost update.
    The audit event names the fields changed, never their values.
    """
    allowed = {"first_name", "last_name", "email", "phone", "note", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError("not a field that can be changed", field=sorted(unknown)[0])
    region = _region(workspace_id)
    values = {name: _changed_value(name, raw, region) for name, raw in changes.items()}
    with workspace_scope(workspace_id), transaction.atomic():
        customer = Customer.objects.select_for_update().filter(id=customer_id).first()
        if customer is None:
            raise NotFound("no such customer")
        if expected_version is not None and customer.version != expected_version:
            raise Conflict("the customer changed since you read it; reload and retry",
                           field="version")
        for name, value in values.items():
            setattr(customer, name, value)
        customer.version += 1
        customer.save()
        audit.record(
            action=audit.Action.CUSTOMER_UPDATED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="customer",
            subject_id=customer.id,
            fields=sorted(changes),
        )
    return customer


def _checked_consent(channel: str, consent: ConsentInput) -> ConsentInput:
    """The consent with its source trimmed and its time set; raises naming the field."""
    if channel not in ("email", "sms"):
        raise ValidationError("channel is email or sms", field="channel")
    where = f"{channel}_marketing_consent."
    if consent.state not in MarketingState.values:
        raise ValidationError(f"state is one of {', '.join(MarketingState.values)}",
                              field=where + "state")
    if consent.opt_in_level not in OptInLevel.values:
        raise ValidationError(f"opt_in_level is one of {', '.join(OptInLevel.values)}",
                              field=where + "opt_in_level")
    source = consent.source.strip()
    if not source or len(source) > 64:
        raise ValidationError("say where consent was collected (1-64 characters)",
                              field=where + "source")
    at = consent.consented_at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError("consent cannot be given in the future",
                              field=where + "consented_at")
    return ConsentInput(state=consent.state, source=source, opt_in_level=consent.opt_in_level,
                        consented_at=at)


def _apply_consent(customer: Customer, channel: str, consent: ConsentInput, *,
                   has_contact: bool) -> None:
    if consent.state == MarketingState.SUBSCRIBED and not has_contact:
        contact = "email" if channel == "email" else "phone"
        raise ValidationError(f"the customer has no {contact} to subscribe",
                              field=f"{channel}_marketing_consent.state")
    setattr(customer, f"{channel}_marketing_state", consent.state)
    setattr(customer, f"{channel}_marketing_opt_in_level",
            consent.opt_in_level if consent.state == MarketingState.SUBSCRIBED else "")
    setattr(customer, f"{channel}_marketing_consent_at", consent.consented_at)
    setattr(customer, f"{channel}_marketing_source", consent.source)


def _consent_detail(consent: ConsentInput) -> dict[str, str]:
    at = consent.consented_at
    return {"state": consent.state, "opt_in_level": consent.opt_in_level,
            "source": consent.source, "consented_at": at.isoformat() if at else ""}


def customer_set_marketing_consent(
    *,
    workspace_id: uuid.UUID,
    customer_id: uuid.UUID,
    channel: str,
    consent: ConsentInput,
    actor: audit.Actor,
    notify: bool = True,
) -> Customer:
    """Record a customer's email or SMS marketing consent (state, opt-in level, time, source).

    Subscribing needs an email (or phone) on file. Every change is an audit event with the new
    state and source, so the history of consent can be shown later, and is signalled
    (``marketing_consent_given``) so the consent ledger records it. ``notify=False`` only for
    the ledger itself, which calls this to follow a decision it already holds.
    """
    checked = _checked_consent(channel, consent)
    with workspace_scope(workspace_id), transaction.atomic():
        customer = Customer.objects.select_for_update().filter(id=customer_id).first()
        if customer is None:
            raise NotFound("no such customer")
        # The blind index tells whether a contact is on file without decrypting it.
        on_file = customer.email_bidx if channel == "email" else customer.phone_bidx
        _apply_consent(customer, channel, checked, has_contact=bool(on_file))
        customer.version += 1
        customer.save()
        audit.record(
            action=audit.Action.CUSTOMER_UPDATED,
            actor=actor,
            workspace_id=workspace_id,
            subject_type="customer",
            subject_id=customer.id,
            fields=[f"{channel}_marketing_consent"],
            detail=_consent_detail(checked),
        )
        if notify:
            send_marketing_consent_given(workspace_id=workspace_id, actor=actor, given=[
                MarketingConsentGiven(customer_id=customer.id, at_creation=False, channels=(
                    ChannelConsent(channel=channel, state=checked.state, source=checked.source,
                                   opt_in_level=checked.opt_in_level,
                                   consented_at=checked.consented_at),))])
    return customer
