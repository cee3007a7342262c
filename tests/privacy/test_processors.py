"""Share profiles: a processor receives only the fields its profile allows; every share audited."""

from __future__ import annotations

import pytest

from storesync.core.errors import NotFound, ValidationError
from storesync.orders.models import Order
from storesync.privacy import processors
from storesync.security.access import PersonalDataAccessError
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


def _builtin(ws, kind):
    return next(p for p in processors.processor_list(workspace_id=ws) if p.kind == kind)


def test_builtin_profiles_are_seeded_for_every_workspace(ws):
    kinds = {p.kind for p in processors.processor_list(workspace_id=ws) if p.builtin}
    assert kinds == {"courier", "payment_processor"}


def test_courier_gets_name_address_phone_never_email(ws, order, customer):
    courier = _builtin(ws, "courier")
    payload = processors.share_payload(processor=courier, record=order)
    assert payload["ship_name"] == "Asha Rao" and payload["ship_city"] == "Pune"
    assert payload["ship_phone"].startswith("+91") and payload["number"] == order.number
    assert "email" not in payload and "total_minor" not in payload
    assert set(payload) <= set(processors.shareable_fields(courier, Order))
    event = AuditEvent.objects.get(action="processor.shared")
    assert event.subject_id == str(customer.id) and "email" not in event.fields
    assert event.detail["processor_id"] == str(courier.id)
    read = AuditEvent.objects.get(action="personal_data.read", purpose="share:courier")
    assert "order.email" not in read.fields
    # The record's other fields stay sealed: nothing outside the profile was decrypted.
    with pytest.raises(PersonalDataAccessError):
        _ = order.email


def test_no_field_outside_any_profile_ever_leaks(ws, order, customer):
    profiles = ([], ["user.name"], ["user.contact.email"], list(processors.CATEGORIES))
    for index, categories in enumerate(profiles):
        row = processors.processor_create(workspace_id=ws, actor=ACTOR, data={
            "name": f"Profile {index}", "kind": "other", "categories": categories,
            "country": "IN", "safeguard": "domestic"})
        for record in (order, customer):
            payload = processors.share_payload(processor=row, record=record)
            allowed = processors.shareable_fields(row, type(record))
            assert set(payload) == set(allowed)
            assert all(cat in categories for cat in allowed.values())


def test_payment_processor_gets_amount_and_email(ws, order):
    payload = processors.share_payload(processor=_builtin(ws, "payment_processor"), record=order)
    assert payload["email"] == "asha.rao@example.com" and payload["total_minor"] == 89900
    assert "ship_line1" not in payload


def test_transfers_abroad_need_a_safeguard(ws, order):
    with pytest.raises(ValidationError) as exc:
        processors.processor_create(workspace_id=ws, actor=ACTOR, data={
            "name": "Hosting", "kind": "hosting", "categories": ["user.name"],
            "country": "US", "safeguard": "domestic"})
    assert exc.value.field == "safeguard"
    row = processors.processor_create(workspace_id=ws, actor=ACTOR, data={
        "name": "Hosting", "kind": "hosting", "categories": ["user.name"], "country": "US",
        "safeguard": "none"})
    with pytest.raises(ValidationError, match="no transfer safeguard"):
        processors.share_payload(processor=row, record=order)
    processors.processor_update(workspace_id=ws, processor_id=row.id, actor=ACTOR,
                                changes={"safeguard": "sccs", "contract_reference": "DPA-7"})
    fresh = processors.processor_get(workspace_id=ws, processor_id=row.id)
    assert processors.share_payload(processor=fresh, record=order) == {"ship_name": "Asha Rao"}


def test_bad_categories_and_other_workspaces(ws, order, other_workspace):
    with pytest.raises(ValidationError) as exc:
        processors.processor_create(workspace_id=ws, actor=ACTOR, data={
            "name": "X", "kind": "courier", "categories": ["user.soul"], "country": "IN",
            "safeguard": "domestic"})
    assert exc.value.field == "categories"
    theirs = _builtin(other_workspace.workspace.id, "courier")
    with pytest.raises(NotFound):
        processors.share_payload(processor=theirs, record=order)
    with pytest.raises(NotFound):
        processors.processor_get(workspace_id=ws, processor_id=theirs.id)
