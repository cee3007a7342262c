"""Restrictions through the API: the consent summary says which request refuses a purpose, the
marketing audience leaves restricted customers out (and says how many), and a customer created
or changed with marketing consent always leaves an entry in the consent ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.customers import services as customers
from storesync.customers.models import Customer
from storesync.privacy import consent, policies, services
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR, CUSTOMER
from tests.privacy.rights.conftest import (
    after_commit_now,  # noqa: F401  (fixture)
    submitted_and_verified,
)

pytestmark = pytest.mark.usefixtures("after_commit_now")

EMAIL = CUSTOMER["email"].lower()  # as stored, and as the verification code is mailed to
SUBSCRIBED = {"state": "subscribed", "opt_in_level": "confirmed_opt_in",
              "source": "newsletter_form", "consented_at": "2026-11-01T10:00:00Z"}


@pytest.fixture
def policy(workspace):
    return policies.policy_publish(
        workspace_id=workspace.workspace.id, actor=ACTOR, version="2026-11",
        summary="First version", body="We use your email for our newsletter.", url="",
        effective_at=timezone.now() - timedelta(days=1))


@pytest.fixture
def subscriber(owner_api, policy):
    """A customer created through the API with email marketing consent."""
    created = owner_api.post("/api/v1/customers", {**CUSTOMER,
                                                   "email_marketing_consent": SUBSCRIBED})
    assert created.status_code == 201, created.content
    return created.json()


def _consent(api, customer_id):
    response = api.get(f"/api/v1/privacy/subjects/customer/{customer_id}/consent")
    assert response.status_code == 200, response.content
    return response.json()


def test_creating_a_customer_with_consent_writes_the_ledger(owner_api, subscriber, policy):
    body = _consent(owner_api, subscriber["id"])
    assert body["allows"]["marketing"] is True and "marketing" not in body["reasons"]
    [entry] = body["history"]
    assert (entry["purpose"], entry["state"], entry["source"]) == (
        "marketing", "granted", "api")  # a free-text source outside the ledger's list
    assert entry["policy_version"] == policy.version
    assert entry["evidence"] == {
        "channel": "email", "source": "newsletter_form", "opt_in_level": "confirmed_opt_in",
        "consented_at": "2026-11-01T10:00:00+00:00", "given": "with_customer_details",
        "email_state": "subscribed"}


def test_one_entry_for_channels_given_together(owner_api, workspace):
    created = owner_api.post("/api/v1/customers", {
        **CUSTOMER, "email_marketing_consent": {"state": "subscribed", "source": "checkout"},
        "sms_marketing_consent": {"state": "unsubscribed", "source": "checkout"}}).json()
    [entry] = _consent(owner_api, created["id"])["history"]
    # Marketing is allowed (by email); the SMS refusal is part of the evidence and does not
    # unsubscribe the email the customer just agreed to.
    assert (entry["state"], entry["source"]) == ("granted", "checkout")
    assert entry["evidence"]["sms_state"] == "unsubscribed"
    assert owner_api.get(f"/api/v1/customers/{created['id']}").json()[
        "email_marketing_consent"]["state"] == "subscribed"
    never_asked = owner_api.post("/api/v1/customers", {
        **CUSTOMER, "email": "ravi@example.com",
        "email_marketing_consent": {"state": "not_subscribed", "source": "pos"}}).json()
    assert _consent(owner_api, never_asked["id"])["history"] == []


def test_refused_creation_writes_no_ledger_entry(owner_api, workspace):
    bad = owner_api.post("/api/v1/customers", {
        "first_name": "Ravi", "email": "ravi@example.com",
        "sms_marketing_consent": {"state": "subscribed", "source": "pos"}})  # no phone
    assert bad.status_code == 400
    assert consent.consent_audience(workspace_id=workspace.workspace.id,
                                    purpose="marketing").subject_ids == set()


def test_every_service_path_reaches_the_ledger(workspace):
    """Bulk creation (imports, channel data) and a direct channel-consent change record too:
    the ledger hears the customers app's signal, not one API handler."""
    ws = workspace.workspace.id
    customers.customers_bulk_create(workspace_id=ws, actor=ACTOR, rows=[
        customers.CustomerInput(first_name="A", email="a@example.com",
                                email_marketing=customers.ConsentInput("subscribed", "import")),
        customers.CustomerInput(first_name="B", email="b@example.com")])
    audience = consent.consent_subjects_allowing(workspace_id=ws, purpose="marketing")
    assert len(audience) == 1
    [customer_id] = audience
    customers.customer_set_marketing_consent(
        workspace_id=ws, customer_id=customer_id, channel="email", actor=ACTOR,
        consent=customers.ConsentInput("unsubscribed", "shopify"))
    history = consent.consent_history(workspace_id=ws, subject=Subject("customer", customer_id))
    assert [(e.state, e.evidence["given"]) for e in history] == [
        ("withdrawn", "channel_consent"), ("granted", "with_customer_details")]
    assert consent.consent_subjects_allowing(workspace_id=ws, purpose="marketing") == set()


def test_restricted_customer_is_out_of_the_audience_with_the_reason(
        owner_api, viewer_api, subscriber, workspace):
    slug = workspace.workspace.slug
    audience = owner_api.get("/api/v1/privacy/consents/allowed?purpose=marketing").json()
    assert audience["subject_ids"] == [subscriber["id"]]
    assert audience["excluded"] == {"restriction": 0, "under_age": 0}

    request = submitted_and_verified(slug, "objection", email=EMAIL)
    audience = owner_api.get("/api/v1/privacy/consents/allowed?purpose=marketing").json()
    assert audience["subject_ids"] == []
    assert audience["excluded"] == {"restriction": 1, "under_age": 0}
    body = _consent(viewer_api, subscriber["id"])
    assert body["allows"]["marketing"] is False and body["allows"]["necessary"] is True
    assert body["reasons"]["marketing"] == (
        f"objected to by request {request.id}: no marketing until it is lifted")
    # The customer record says it too, next to the (unchanged) channel state.
    seen = viewer_api.get(f"/api/v1/customers/{subscriber['id']}").json()
    assert seen["email_marketing_consent"]["state"] == "subscribed"
    assert seen["restricted_uses"] == ["marketing", "analytics"]
    listed = viewer_api.get("/api/v1/customers?email_marketing_state=subscribed").json()
    assert [c["restricted_uses"] for c in listed["items"]] == [["marketing", "analytics"]]

    lifted = owner_api.post(f"/api/v1/privacy/requests/{request.id}/actions",
                            {"action": "lift_restriction"})
    assert lifted.status_code == 200, lifted.content
    assert owner_api.get("/api/v1/privacy/consents/allowed?purpose=marketing").json()[
        "subject_ids"] == [subscriber["id"]]
    assert _consent(viewer_api, subscriber["id"])["allows"]["marketing"] is True
    assert viewer_api.get(f"/api/v1/customers/{subscriber['id']}").json()[
        "restricted_uses"] == []


def test_do_not_sell_refuses_sale_share_and_marketing_only(owner_api, subscriber, workspace):
    ws = workspace.workspace.id
    subject = Subject("customer", subscriber["id"])
    for purpose in ("analytics", "sale_share"):
        consent.consent_record(workspace_id=ws, subject=subject, purpose=purpose,
                               state="granted", source="checkout", actor=ACTOR)
    request = submitted_and_verified(workspace.workspace.slug, "do_not_sell",
                                     email=EMAIL)
    body = _consent(owner_api, subscriber["id"])
    assert {p for p, ok in body["allows"].items() if ok} == {"necessary", "analytics"}
    assert str(request.id) in body["reasons"]["sale_share"]
    assert body["reasons"]["personalisation"] == "no decision recorded (opt-in)"
    services.restriction_lift(workspace_id=ws, request_id=request.id, actor=ACTOR)
    assert _consent(owner_api, subscriber["id"])["allows"]["sale_share"] is True


def test_the_request_shows_who_is_told_of_the_restriction_and_of_its_lift(
        owner_api, subscriber, workspace):
    """GDPR Art. 19: a courier that received the customer's data has a row for the
    restriction, and one more for its lift; the lift is possible while the courier has not
    confirmed, once."""
    ws = workspace.workspace.id
    with workspace_scope(ws):
        courier = Processor.objects.get(kind="courier", builtin=True)
        customer = Customer.objects.get(id=subscriber["id"])
    share_payload(processor=courier, record=customer, actor=ACTOR)
    request = submitted_and_verified(workspace.workspace.slug, "restriction", email=EMAIL)

    body = owner_api.get(f"/api/v1/privacy/requests/{request.id}").json()
    assert body["status"] == "in_progress" and body["outcome"]["recipients"] == 1
    [row] = body["propagations"]
    assert (row["recipient_type"], row["recipient_name"], row["action"], row["state"]) == (
        "processor", courier.name, "restriction", "waiting")
    assert "no privacy contact on file" in row["last_error"] and row["note"] == ""

    lifted = owner_api.post(f"/api/v1/privacy/requests/{request.id}/actions",
                            {"action": "lift_restriction"})
    assert lifted.status_code == 200, lifted.content
    assert [p["action"] for p in lifted.json()["propagations"]] == [
        "restriction", "restriction_lift"]
    assert lifted.json()["outcome"]["lift_recipients"] == 1
    again = owner_api.post(f"/api/v1/privacy/requests/{request.id}/actions",
                           {"action": "lift_restriction"})
    assert again.status_code == 409 and again.json()["error"]["field"] == "action"
