"""The processors register and the share profiles it enforces.

A processor (courier, payment processor, hosting, channel...) receives personal data only
through ``share_payload``, which returns the fields of a record whose data category is in the
processor's profile and nothing else, reads them through the audited access scope and appends a
``processor.shared`` audit event (processor, subject, fields). Code that sends data to a
processor calls it; there is no other path that yields its values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, models, transaction

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address
from storesync.privacy.governance_models import Processor, ProcessorKind, TransferSafeguard
from storesync.privacy.propagation import propagation_release_waiting
from storesync.security import audit
from storesync.security.access import data_subject, personal_data_access
from storesync.security.fields import encrypted_fields

ADDRESS = ("user.contact.address.street", "user.contact.address.city",
           "user.contact.address.postal_code", "user.contact.address.region")
CATEGORIES = ("user.name", "user.contact.email", "user.contact.phone", *ADDRESS, "user.notes",
              "order.reference", "order.amount")
# Clear-text fields that still describe a person or their order, by model.
PLAIN_FIELD_CATEGORIES: dict[str, dict[str, str]] = {
    "orders.order": {"number": "order.reference", "name": "order.reference",
                     "total_minor": "order.amount", "currency": "order.amount",
                     "ship_province_code": "user.contact.address.region",
                     "ship_country_code": "user.contact.address.region"},
    "customers.address": {"province_code": "user.contact.address.region",
                          "country_code": "user.contact.address.region"},
}
# A courier delivers a parcel: who, where, a phone to call, the order to label. Never email or
# order history. A payment processor verifies a payment: payer, contact, reference, amount.
BUILTIN_PROFILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Courier (built-in profile)": (ProcessorKind.COURIER,
                                   ("user.name", *ADDRESS, "user.contact.phone",
                                    "order.reference")),
    "Payment processor (built-in profile)": (ProcessorKind.PAYMENT_PROCESSOR,
                                             ("user.name", "user.contact.email",
                                              "user.contact.phone", "order.reference",
                                              "order.amount")),
}
EDITABLE = ("name", "kind", "categories", "country", "safeguard", "contract_reference",
            "privacy_email", "active")


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        name = str(values["name"]).strip()
        if not name or len(name) > 120:
            raise ValidationError("a name of 1-120 characters", field="name")
        out["name"] = name
    if "kind" in values:
        if values["kind"] not in ProcessorKind.values:
            raise ValidationError(f"kind is one of {', '.join(ProcessorKind.values)}",
                                  field="kind")
        out["kind"] = values["kind"]
    if "categories" in values:
        cats = list(values["categories"])
        unknown = [c for c in cats if c not in CATEGORIES]
        if unknown:
            raise ValidationError(f"unknown data category {unknown[0]!r}; one of "
                                  f"{', '.join(CATEGORIES)}", field="categories")
        out["categories"] = sorted(set(cats))
    if "country" in values:
        country = str(values["country"]).strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError("a two-letter ISO 3166 country code", field="country")
        out["country"] = country
    if "safeguard" in values:
        if values["safeguard"] not in TransferSafeguard.values:
            raise ValidationError(f"safeguard is one of {', '.join(TransferSafeguard.values)}",
                                  field="safeguard")
        out["safeguard"] = values["safeguard"]
    if "contract_reference" in values:
        ref = str(values["contract_reference"]).strip()
        if len(ref) > 200:
            raise ValidationError("at most 200 characters", field="contract_reference")
        out["contract_reference"] = ref
    if "privacy_email" in values:
        address = str(values["privacy_email"] or "").strip()
        out["privacy_email"] = validate_email_address(address, field="privacy_email") \
            if address else ""
    if "active" in values:
        out["active"] = bool(values["active"])
    return out


def _check_transfer(row: Processor, workspace_country: str) -> None:
    if row.safeguard == TransferSafeguard.DOMESTIC and row.country != workspace_country:
        raise ValidationError(f"a processor in {row.country} is a transfer abroad from "
                              f"{workspace_country}: record its safeguard", field="safeguard")


def _country(workspace_id: uuid.UUID) -> str:
    return Workspace.objects.filter(id=workspace_id).values_list("country", flat=True).first() \
        or "IN"


def processors_seed(*, workspace_id: uuid.UUID) -> int:
    """Create the built-in courier and payment-processor profiles if absent; returns how many."""
    country = _country(workspace_id)
    with workspace_scope(workspace_id), transaction.atomic():
        existing = set(Processor.objects.filter(builtin=True).values_list("name", flat=True))
        rows = [Processor(workspace_id=workspace_id, name=name, kind=kind, categories=sorted(cats),
                          country=country, safeguard=TransferSafeguard.DOMESTIC, builtin=True)
                for name, (kind, cats) in BUILTIN_PROFILES.items() if name not in existing]
        Processor.objects.bulk_create(rows)
    return len(rows)


def processor_create(*, workspace_id: uuid.UUID, data: Mapping[str, Any],
                     actor: audit.Actor) -> Processor:
    """Register a processor with its share profile (data categories) and transfer safeguard."""
    for required in ("name", "kind", "categories", "country", "safeguard"):
        if required not in data:
            raise ValidationError("required", field=required)
    country = _country(workspace_id)
    row = Processor(workspace_id=workspace_id, **_clean(data))
    _check_transfer(row, country)
    with workspace_scope(workspace_id):
        try:
            with transaction.atomic():
                row.save(force_insert=True)
                audit.record(action=audit.Action.PROCESSOR_CREATED, actor=actor,
                             workspace_id=workspace_id, subject_type="processor",
                             subject_id=row.id, detail={"name": row.name,
                                                        "categories": row.categories})
        except IntegrityError:
            raise Conflict("a processor with this name exists", field="name") from None
    return row


def processor_get(*, workspace_id: uuid.UUID, processor_id: uuid.UUID | str) -> Processor:
    try:
        pid = uuid.UUID(str(processor_id))
    except ValueError:
        raise NotFound("no such processor") from None
    with workspace_scope(workspace_id):
        row = Processor.objects.filter(id=pid).first()
    if row is None:
        raise NotFound("no such processor")
    return row


def processor_update(*, workspace_id: uuid.UUID, processor_id: uuid.UUID | str,
                     changes: Mapping[str, Any], actor: audit.Actor) -> Processor:
    """Change a processor; only the named fields change."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError("not a field that can be changed", field=sorted(unknown)[0])
    country = _country(workspace_id)
    row = processor_get(workspace_id=workspace_id, processor_id=processor_id)
    had_contact = row.privacy_email
    for name, value in _clean(changes).items():
        setattr(row, name, value)
    _check_transfer(row, country)
    with workspace_scope(workspace_id):
        try:
            with transaction.atomic():
                row.save()
                audit.record(action=audit.Action.PROCESSOR_UPDATED, actor=actor,
                             workspace_id=workspace_id, subject_type="processor",
                             subject_id=row.id, fields=sorted(changes))
                if row.privacy_email and not had_contact:
                    # The notices that waited for a contact go out now, from the worker.
                    propagation_release_waiting(workspace_id=workspace_id,
                                                recipient_type="processor",
                                                recipient_id=str(row.id))
        except IntegrityError:
            raise Conflict("a processor with this name exists", field="name") from None
    return row


def processor_list(*, workspace_id: uuid.UUID) -> list[Processor]:
    with workspace_scope(workspace_id):
        return list(Processor.objects.order_by("-builtin", "name"))


def field_categories(model: type[models.Model]) -> dict[str, str]:
    """field name -> data category, for every field of ``model`` that can be shared."""
    fields = {f.name: f.category for f in encrypted_fields(model)
              if getattr(f, "personal", True)}
    fields.update(PLAIN_FIELD_CATEGORIES.get(model._meta.label_lower, {}))
    return fields


def shareable_fields(processor: Processor, model: type[models.Model]) -> dict[str, str]:
    """field name -> category, for the fields of ``model`` this processor may receive."""
    allowed = set(processor.categories)
    return {name: cat for name, cat in field_categories(model).items() if cat in allowed}


def share_payload(*, processor: Processor, record: models.Model,
                  actor: audit.Actor | None = None) -> dict[str, Any]:
    """The fields of ``record`` the processor's profile allows, and only those; audited.

    Refuses an inactive processor, another workspace's record, and a transfer abroad without a
    recorded safeguard."""
    workspace_id = getattr(record, "workspace_id", None)
    if workspace_id != processor.workspace_id:
        raise NotFound("no such record")
    if not processor.active:
        raise ValidationError(f"{processor.name} is inactive: nothing is shared with it",
                              field="processor")
    if processor.safeguard == TransferSafeguard.NONE:
        raise ValidationError(f"{processor.name} is in {processor.country} with no transfer "
                              "safeguard recorded: nothing is shared with it", field="processor")
    actor = actor or audit.Actor.system("share")
    fields = shareable_fields(processor, type(record))
    subject_type, subject_id = data_subject(record)
    with transaction.atomic():
        with personal_data_access(actor=actor, workspace_id=processor.workspace_id,
                                  purpose=f"share:{processor.kind}"):
            payload = {name: getattr(record, name) for name in sorted(fields)}
        audit.record(action=audit.Action.PROCESSOR_SHARED, actor=actor,
                     workspace_id=processor.workspace_id, subject_type=subject_type,
                     subject_id=subject_id, fields=sorted(fields),
                     purpose=f"share:{processor.kind}",
                     detail={"processor_id": str(processor.id), "processor": processor.name,
                             "record": f"{record._meta.label_lower}:{record.pk}"})
    return payload


def share_record_get(*, workspace_id: uuid.UUID, record_type: str,
                     record_id: uuid.UUID | str) -> models.Model:
    """The order, customer or address to share, from this workspace (else NotFound)."""
    from storesync.customers.models import Address, Customer
    from storesync.orders.models import Order

    record_models: dict[str, type[models.Model]] = {
        "order": Order, "customer": Customer, "address": Address}
    model = record_models.get(record_type)
    if model is None:
        raise ValidationError("record_type is 'order', 'customer' or 'address'",
                              field="record_type")
    try:
        rid = uuid.UUID(str(record_id))
    except ValueError:
        raise NotFound(f"no such {record_type}") from None
    with workspace_scope(workspace_id):
        found = model._default_manager.filter(id=rid).first()
    if found is None:
        raise NotFound(f"no such {record_type}")
    return found
