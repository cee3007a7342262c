"""Processors' privacy contacts and their answers through the API: the contact is set on the
processor, the notice goes out by email, and staff record the processor's answer with
``POST /api/v1/privacy/requests/<id>/propagations/<id>/answer``."""

from __future__ import annotations

import pytest
from django.core import mail

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from tests.conftest import ACTOR, CUSTOMER, api_client_for
from tests.privacy.rights.conftest import (
    after_commit_now,  # noqa: F401  (fixture)
    submitted_and_verified,
)

pytestmark = pytest.mark.usefixtures("after_commit_now")

EMAIL = CUSTOMER["email"].lower()
DPO = "privacy@courier.example"


@pytest.fixture
def courier(owner_api, workspace) -> dict:
    listed = owner_api.get("/api/v1/privacy/processors").json()
    courier = next(p for p in listed if p["kind"] == "courier")
    assert courier["privacy_email"] == ""
    return courier


@pytest.fixture
def restricted(owner_api, workspace, courier) -> dict:
    """A customer whose record the courier received, restricted: the courier is told."""
    created = owner_api.post("/api/v1/customers", CUSTOMER)
    assert created.status_code == 201, created.content
    patched = owner_api.patch(f"/api/v1/privacy/processors/{courier['id']}",
                              {"privacy_email": DPO})
    assert patched.status_code == 200 and patched.json()["privacy_email"] == DPO
    ws = workspace.workspace.id
    with workspace_scope(ws):
        processor = Processor.objects.get(id=courier["id"])
        customer = Customer.objects.get(id=created.json()["id"])
    share_payload(processor=processor, record=customer, actor=ACTOR)
    request = submitted_and_verified(workspace.workspace.slug, "restriction", email=EMAIL)
    body = owner_api.get(f"/api/v1/privacy/requests/{request.id}").json()
    [row] = body["propagations"]
    return {"request": body, "row": row, "url": (
        f"/api/v1/privacy/requests/{request.id}/propagations/{row['id']}/answer")}


def test_the_privacy_contact_is_set_validated_and_listed(owner_api, courier):
    bad = owner_api.patch(f"/api/v1/privacy/processors/{courier['id']}",
                          {"privacy_email": "not an address"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "privacy_email"
    created = owner_api.post("/api/v1/privacy/processors", {
        "name": "Mailer", "kind": "email", "categories": ["user.contact.email"],
        "country": "IN", "safeguard": "domestic", "privacy_email": "DPO@Mailer.example"})
    assert created.status_code == 201 and created.json()["privacy_email"] == "dpo@mailer.example"
    cleared = owner_api.patch(f"/api/v1/privacy/processors/{created.json()['id']}",
                              {"privacy_email": ""})
    assert cleared.json()["privacy_email"] == ""


def test_the_processor_is_emailed_and_the_row_awaits_its_answer(restricted):
    row = restricted["row"]
    assert (row["recipient_type"], row["action"], row["state"]) == (
        "processor", "restriction", "sent")
    assert row["notified_at"] and row["last_error"] == ""
    assert restricted["request"]["status"] == "in_progress"
    [notice] = [m for m in mail.outbox if DPO in m.to]
    assert restricted["request"]["id"] in notice.body
    # It received the customer record without an order: the phone it got names the person.
    assert "the contact details you received from us: +919876543210" in notice.body
    assert "Asha" not in notice.body and "MG Road" not in notice.body


def test_staff_record_the_confirmation_and_the_request_completes(owner_api, restricted):
    answered = owner_api.post(restricted["url"], {
        "outcome": "confirmed", "note": "Courier confirmed the restriction by email 2026-11-20"})
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert body["status"] == "completed"
    [row] = body["propagations"]
    assert row["state"] == "succeeded" and row["note"].startswith("Courier confirmed")
    again = owner_api.post(restricted["url"], {"outcome": "confirmed", "note": "twice"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "propagation_id"


def test_a_refusal_fails_the_row(owner_api, restricted):
    answered = owner_api.post(restricted["url"], {
        "outcome": "refused", "note": "Courier cannot restrict parcels already in transit"})
    assert answered.status_code == 200
    [row] = answered.json()["propagations"]
    assert row["state"] == "failed" and "in transit" in row["note"]
    assert answered.json()["status"] == "in_progress"


def test_bad_answers_are_400s_naming_the_field(owner_api, restricted):
    for body, field in (({"outcome": "maybe", "note": "x"}, "outcome"),
                        ({"outcome": "confirmed"}, "note"),
                        ({"outcome": "confirmed", "note": "  "}, "note")):
        response = owner_api.post(restricted["url"], body)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["field"] == field
    missing = owner_api.post(restricted["url"], {"note": "x"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "outcome"
    unknown = owner_api.post(restricted["url"].replace(
        restricted["row"]["id"], "0190c3c4-0000-7000-8000-000000000009"),
        {"outcome": "confirmed", "note": "x"})
    assert unknown.status_code == 404


def test_only_privacy_managers_record_answers(workspace, viewer_api, restricted):
    staff_api = api_client_for(workspace, "staff")
    for api in (viewer_api, staff_api):
        response = api.post(restricted["url"], {"outcome": "confirmed", "note": "x"})
        assert response.status_code == 403
    row = restricted["row"]
    assert row["state"] == "sent"


def test_the_lift_tells_the_requester_first(owner_api, restricted):
    request_id = restricted["request"]["id"]
    lifted = owner_api.post(f"/api/v1/privacy/requests/{request_id}/actions",
                            {"action": "lift_restriction"})
    assert lifted.status_code == 200, lifted.content
    outcome = lifted.json()["outcome"]
    assert outcome["lift_notice"]["sent_at"] <= outcome["lifted_at"]
    assert any(EMAIL in m.to and "about to lift" in m.body for m in mail.outbox)
    actions = {(p["action"], p["state"]) for p in lifted.json()["propagations"]}
    assert actions == {("restriction", "sent"), ("restriction_lift", "sent")}
