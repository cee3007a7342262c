"""/api/v1/privacy: consent (with GPC), children, policies, processors, breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storesync.core.tenancy import workspace_scope
from storesync.privacy.consent_models import ConsentEntry
from storesync.security.models import AuditEvent
from tests.conftest import CUSTOMER


def _customer(api):
    return api.post("/api/v1/customers", CUSTOMER).json()["id"]


def test_record_withdraw_and_read_consent(owner_api, workspace):
    cid = _customer(owner_api)
    granted = owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid, "purpose": "marketing",
        "source": "checkout", "policy_version": "2026-01",
        "evidence": {"banner_version": "4"}}, **{"User-Agent": "Firefox/140"})
    assert granted.status_code == 201, granted.content
    assert granted.json()["evidence"]["banner_version"] == "4"
    assert "Firefox" not in granted.content.decode()
    withdrawn = owner_api.post("/api/v1/privacy/consents/withdraw", {
        "subject_type": "customer", "subject_id": cid, "purpose": "marketing"})
    assert withdrawn.status_code == 201 and withdrawn.json()["state"] == "withdrawn"
    read = owner_api.get(f"/api/v1/privacy/subjects/customer/{cid}/consent").json()
    assert read["allows"] == {"necessary": True, "analytics": False, "personalisation": False,
                              "marketing": False, "sale_share": False}
    assert [h["state"] for h in read["history"]] == ["withdrawn", "granted"]


def test_unknown_purpose_is_a_400_naming_the_field(owner_api, workspace):
    cid = _customer(owner_api)
    response = owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid, "purpose": "mind_reading"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "purpose"
    with workspace_scope(workspace.workspace.id):
        assert not ConsentEntry.objects.exists()


def test_gpc_header_is_recorded_as_sale_share_withdrawal(owner_api, workspace):
    cid = _customer(owner_api)
    read = owner_api.get(f"/api/v1/privacy/subjects/customer/{cid}/consent",
                         **{"Sec-GPC": "1"}).json()
    assert read["gpc_recorded"] is True
    entry = read["current"]["sale_share"]
    assert (entry["state"], entry["source"]) == ("withdrawn", "gpc_signal")
    # A grant of sale_share sent with GPC on is overridden by the signal.
    owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid, "purpose": "sale_share"},
        **{"Sec-GPC": "1"})
    again = owner_api.get(f"/api/v1/privacy/subjects/customer/{cid}/consent").json()
    assert again["allows"]["sale_share"] is False


def test_under_age_marketing_consent_is_refused(owner_api):
    cid = _customer(owner_api)
    assert owner_api.put(f"/api/v1/privacy/subjects/customer/{cid}/age",
                         {"under_age": True}).status_code == 200
    refused = owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid, "purpose": "marketing"})
    assert refused.status_code == 400
    assert "guardian" in refused.json()["error"]["message"]
    guardian = owner_api.post(f"/api/v1/privacy/subjects/customer/{cid}/guardian-consent", {
        "guardian_name": "Ravi Rao", "guardian_contact": "ravi@example.com",
        "method": "digilocker_token", "verified_at": "2026-01-01T10:00:00Z"})
    assert guardian.status_code == 201 and "Ravi" not in guardian.content.decode()
    assert owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid,
        "purpose": "marketing"}).status_code == 201


def test_policies_processors_and_breaches(owner_api, viewer_api, workspace):
    assert viewer_api.get("/api/v1/privacy/processors").status_code == 403
    processors = owner_api.get("/api/v1/privacy/processors").json()
    assert {p["kind"] for p in processors} == {"courier", "payment_processor"}
    created = owner_api.post("/api/v1/privacy/processors", {
        "name": "Cloud host", "kind": "hosting", "categories": ["user.name"], "country": "DE",
        "safeguard": "adequacy", "contract_reference": "DPA-2026-04"})
    assert created.status_code == 201, created.content
    bad = owner_api.post("/api/v1/privacy/processors", {
        "name": "X", "kind": "hosting", "categories": ["user.aura"], "country": "IN",
        "safeguard": "domestic"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "categories"
    policy = owner_api.post("/api/v1/privacy/policies", {
        "version": "2026-11", "body": "Text", "summary": "Added a courier.",
        "effective_at": "2026-11-01T00:00:00Z"})
    assert policy.status_code == 201, policy.content
    cid = _customer(owner_api)
    accepted = owner_api.post(f"/api/v1/privacy/policies/{policy.json()['id']}/acceptances", {
        "subject_type": "customer", "subject_id": cid, "source": "checkout"})
    assert accepted.status_code == 201 and accepted.json()["version"] == "2026-11"
    now = datetime.now(UTC)
    breach = owner_api.post("/api/v1/privacy/breaches", {
        "title": "Laptop stolen", "description": "An unencrypted export was on it.",
        "categories": ["user.contact.email", "user.name"],
        "window_start": (now - timedelta(days=2)).isoformat(), "window_end": now.isoformat(),
        "discovered_at": "2026-11-24T10:15:00+05:30", "contact": "dpo@acme.example"})
    assert breach.status_code == 201, breach.content
    body = breach.json()
    assert body["authority_deadline"].startswith("2026-11-27T04:45:00")
    assert body["affected_count"] >= 1
    bid = body["id"]
    edited = owner_api.put(f"/api/v1/privacy/breaches/{bid}/notices/authority",
                           {"text": "Final text"})
    assert edited.json()["authority_notice"] == "Final text"
    sent = owner_api.post(f"/api/v1/privacy/breaches/{bid}/notices/authority/sent")
    assert sent.status_code == 200 and sent.json()["authority_notified_at"]
    assert owner_api.put(f"/api/v1/privacy/breaches/{bid}/notices/other",
                         {"text": "x"}).json()["error"]["field"] == "kind"


def test_share_payload_through_the_api_is_profiled_and_audited(owner_api, workspace):
    cid = _customer(owner_api)
    courier = next(p for p in owner_api.get("/api/v1/privacy/processors").json()
                   if p["kind"] == "courier")
    with workspace_scope(workspace.workspace.id):
        from storesync.customers.models import Address

        address_id = str(Address.objects.get(customer_id=cid).id)
    shared = owner_api.post(f"/api/v1/privacy/processors/{courier['id']}/payload",
                            {"record_type": "address", "record_id": address_id})
    assert shared.status_code == 200, shared.content
    assert shared.json()["city"] == "Pune" and "email" not in shared.json()
    shared = owner_api.post(f"/api/v1/privacy/processors/{courier['id']}/payload",
                            {"record_type": "customer", "record_id": cid}).json()
    assert "email" not in shared and shared["phone"] == "+919876543210"
    assert AuditEvent.objects.filter(action="processor.shared", subject_id=cid).count() == 2


def test_settings(owner_api):
    settings = owner_api.get("/api/v1/privacy/settings").json()
    assert settings["minimum_age"] == 18
    changed = owner_api.patch("/api/v1/privacy/settings", {
        "storefront_origins": ["https://shop.example.com"], "minimum_age": 16})
    assert changed.json()["storefront_origins"] == ["https://shop.example.com"]
    bad = owner_api.patch("/api/v1/privacy/settings", {"minimum_age": 3})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "minimum_age"


def test_marketing_audience_and_unsubscribe_link(owner_api, workspace):
    from django.test import Client

    cid = _customer(owner_api)
    owner_api.post("/api/v1/privacy/consents", {
        "subject_type": "customer", "subject_id": cid, "purpose": "marketing"})
    audience = owner_api.get("/api/v1/privacy/consents/allowed?purpose=marketing").json()
    assert audience["subject_ids"] == [cid]
    bad = owner_api.get("/api/v1/privacy/consents/allowed?purpose=spam")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "purpose"
    link = owner_api.get(f"/api/v1/privacy/subjects/customer/{cid}/unsubscribe-link").json()
    assert link["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = "/" + link["url"].split("/", 3)[3]
    assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert owner_api.get("/api/v1/privacy/consents/allowed?purpose=marketing").json()[
        "subject_ids"] == []
