"""Privacy pages: the storefront consent API, one-click unsubscribe, the public policy page,
and the staff pages (settings, policy banner, processors, breaches, consent history)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.privacy import consent, policies
from storesync.privacy.consent_models import ConsentEntry
from storesync.privacy.subjects import Subject
from storesync.web.views import privacy_public
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code

SHOP = "https://shop.example.com"
VISITOR = "3f0c2a9e-5b1d-4c7e-9a55-0d6f2b8c1e44"


@pytest.fixture
def storefront(workspace):
    ws = workspace.workspace.id
    row = consent.privacy_settings_update(workspace_id=ws, actor=ACTOR,
                                          changes={"storefront_origins": [SHOP]})
    return ws, f"/privacy/acme/consent?key={row.public_key}"


def _entries(ws):
    with workspace_scope(ws):
        return list(ConsentEntry.objects.order_by("recorded_at", "purpose"))


def test_banner_choices_are_recorded_with_evidence_and_cors(storefront):
    ws, url = storefront
    client = Client()
    preflight = client.options(url, headers={"Origin": SHOP,
                                             "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == SHOP
    response = client.post(url, {"visitor_id": VISITOR, "banner_version": "2",
                                 "choices": {"analytics": "granted", "marketing": "withdrawn"}},
                           content_type="application/json",
                           headers={"Origin": SHOP, "User-Agent": "Mozilla/5.0 Test"})
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SHOP
    body = response.json()
    assert body["allows"]["analytics"] is True and body["allows"]["marketing"] is False
    entries = _entries(ws)
    assert [(e.purpose, e.state, e.source) for e in entries] == [
        ("analytics", "granted", "storefront_banner"), ("marketing", "withdrawn",
                                                        "storefront_banner")]
    assert entries[0].evidence["banner_version"] == "2"
    assert len(entries[0].evidence["user_agent_sha256"]) == 16
    assert "Mozilla" not in str(entries[0].evidence)
    assert not client.cookies  # the API sets no cookie
    read = client.get(url + f"&visitor_id={VISITOR}", headers={"Origin": SHOP}).json()
    assert read["purposes"]["analytics"] == "granted"


def test_foreign_origins_bad_keys_and_bad_purposes_are_refused(storefront):
    ws, url = storefront
    client = Client()
    foreign = client.post(url, {"visitor_id": VISITOR, "choices": {"analytics": "granted"}},
                          content_type="application/json",
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign
    bad_key = client.get("/privacy/acme/consent?key=pk_wrong&visitor_id=" + VISITOR)
    assert bad_key.status_code == 403 and bad_key.json()["error"]["field"] == "key"
    unknown = client.post(url, {"visitor_id": VISITOR, "choices": {"telepathy": "granted"}},
                          content_type="application/json")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "purpose"
    no_id = client.post(url, {"choices": {"analytics": "granted"}},
                        content_type="application/json")
    assert no_id.status_code == 400 and no_id.json()["error"]["field"] == "visitor_id"
    assert _entries(ws) == []


def test_gpc_on_the_storefront_api_withdraws_sale_share(storefront):
    ws, url = storefront
    response = Client().post(url, {"visitor_id": VISITOR,
                                   "choices": {"sale_share": "granted", "analytics": "granted"}},
                             content_type="application/json",
                             headers={"Origin": SHOP, "Sec-GPC": "1"})
    assert response.status_code == 201
    assert response.json()["allows"]["sale_share"] is False
    assert [(e.purpose, e.state, e.source) for e in _entries(ws)] == [
        ("analytics", "granted", "storefront_banner"),
        ("sale_share", "withdrawn", "gpc_signal")]
    Client().get(url + f"&visitor_id={VISITOR}", headers={"Sec-GPC": "1"})
    assert len(_entries(ws)) == 2  # already withdrawn: not recorded twice


def test_the_storefront_api_is_rate_limited(storefront, monkeypatch):
    _, url = storefront
    monkeypatch.setattr(privacy_public, "RATE_LIMIT_PER_MINUTE", 3)
    client = Client()
    codes = [client.get(url + f"&visitor_id={VISITOR}").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[-1] == 429


def test_one_click_unsubscribe(workspace, customer):
    ws = workspace.workspace.id
    subject = Subject("customer", str(customer.id))
    consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                           state="granted", source="checkout", actor=ACTOR)
    token = consent.unsubscribe_token(workspace_id=ws, customer_id=customer.id)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/privacy/unsubscribe/{token}")
    assert page.status_code == 200 and b"List-Unsubscribe" in page.content
    assert consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    done = client.post(f"/privacy/unsubscribe/{token}", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"unsubscribed" in done.content
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    assert consent.consent_history(workspace_id=ws, subject=subject)[0].source == \
        "unsubscribe_link"


def test_forged_unsubscribe_links_change_nothing(workspace, customer):
    ws = workspace.workspace.id
    token = consent.unsubscribe_token(workspace_id=ws, customer_id=customer.id)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    client = Client()
    for method in ("get", "post"):
        response = getattr(client, method)(f"/privacy/unsubscribe/{forged}",
                                           {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400 and b"not valid" in response.content
    assert _entries(ws) == []


def test_public_policy_page_shows_current_version_and_history(workspace):
    ws = workspace.workspace.id
    for version, days in (("2025-01", 300), ("2026-06", 10)):
        policies.policy_publish(workspace_id=ws, version=version, body=f"Text {version}",
                                summary=f"Changes in {version}", actor=ACTOR,
                                effective_at=timezone.now() - timedelta(days=days))
    page = Client().get("/privacy/acme/policy")
    html = page.content.decode()
    assert page.status_code == 200 and "Text 2026-06" in html and "Changes in 2025-01" in html
    assert_no_inline_code(html)
    assert Client().get("/privacy/nope/policy").status_code == 404


def test_staff_policy_banner_until_acknowledged(workspace, owner_client):
    page = owner_client.get("/settings/privacy/")
    assert page.status_code == 200
    assert_no_inline_code(page.content.decode())
    published = owner_client.post("/settings/privacy/", {
        "form": "policy", "version": "2026-11", "summary": "New courier partner.",
        "body": "Full text", "effective_at": "2026-11-01T00:00"})
    assert published.status_code == 302
    dashboard = owner_client.get("/").content.decode()
    assert 'id="policy-notice"' in dashboard and "New courier partner." in dashboard
    policy = policies.policy_list(workspace_id=workspace.workspace.id)[0]
    owner_client.post(f"/settings/privacy/policies/{policy.id}/acknowledge", {"next": "/"})
    assert 'id="policy-notice"' not in owner_client.get("/").content.decode()


def test_privacy_pages_need_the_permission(member_client):
    staff = member_client("staff")
    assert staff.get("/settings/privacy/").status_code == 403
    assert staff.get("/settings/privacy/breaches/").status_code == 403


def test_processors_and_breaches_pages(workspace, owner_client, other_workspace):
    listing = owner_client.get("/settings/privacy/processors/")
    assert b"Courier (built-in profile)" in listing.content
    created = owner_client.post("/settings/privacy/processors/", {
        "name": "Blue Dart", "kind": "courier", "categories": ["user.name",
                                                             "user.contact.phone"],
        "country": "IN", "safeguard": "domestic", "contract_reference": "BD-2026"})
    assert created.status_code == 302
    assert b"Blue Dart" in owner_client.get("/settings/privacy/processors/").content
    from storesync.privacy.processors import processor_list

    blue = next(p for p in processor_list(workspace_id=workspace.workspace.id)
                if p.name == "Blue Dart")
    assert owner_client.post(f"/settings/privacy/processors/{blue.id}/toggle").status_code == 302
    assert b"Stop sharing" in owner_client.get("/settings/privacy/processors/").content
    assert not next(p for p in processor_list(workspace_id=workspace.workspace.id)
                    if p.name == "Blue Dart").active
    theirs_processor = processor_list(workspace_id=other_workspace.workspace.id)[0]
    assert owner_client.post(
        f"/settings/privacy/processors/{theirs_processor.id}/toggle").status_code == 404
    recorded = owner_client.post("/settings/privacy/breaches/", {
        "title": "Stolen laptop", "description": "An export was on it.",
        "categories": ["user.contact.email"], "window_start": "2026-11-20T00:00",
        "window_end": "2026-11-21T00:00", "discovered_at": "2026-11-22T09:30",
        "contact": "dpo@acme.example"})
    assert recorded.status_code == 302, recorded.content
    detail = owner_client.get(recorded["Location"]).content.decode()
    # Entered and shown in the workspace's business zone (India), and named as such; the
    # notice to the authority states the same moment in UTC.
    assert "2026-11-25 09:30 IST" in detail and "2026-11-25 04:00 UTC" in detail
    assert_no_inline_code(detail)
    owner_client.post(recorded["Location"], {"kind": "authority", "action": "sent"})
    assert "Sent " in owner_client.get(recorded["Location"]).content.decode()
    from storesync.privacy.breaches import breach_record

    theirs = breach_record(workspace_id=other_workspace.workspace.id, actor=ACTOR, data={
        "title": "Theirs", "description": "x", "categories": ["user.name"],
        "window_start": timezone.now() - timedelta(days=1), "window_end": timezone.now(),
        "discovered_at": timezone.now(), "contact": "x@globex.example"})
    assert owner_client.get(f"/settings/privacy/breaches/{theirs.id}/").status_code == 404


def test_customer_consent_history_page(workspace, owner_client, customer, other_workspace):
    url = f"/customers/{customer.id}/consent"
    assert owner_client.post(url, {"purpose": "marketing", "state": "granted"}).status_code == 302
    page = owner_client.get(url).content.decode()
    assert "staff" in page and "marketing" in page
    assert owner_client.post(url, {"action": "age", "under_age": "yes"}).status_code == 302
    refused = owner_client.post(url, {"purpose": "personalisation", "state": "granted"})
    assert refused.status_code == 400 and "guardian" in refused.content.decode()
    assert "under the minimum age" in owner_client.get(url).content.decode()
    guardian = owner_client.post(f"/customers/{customer.id}/guardian-consent", {
        "guardian_name": "Ravi Quill", "guardian_contact": "ravi@example.com",
        "method": "government_id", "verified_at": "2026-01-01T10:00"})
    assert guardian.status_code == 302
    assert owner_client.post(url, {"purpose": "personalisation",
                                   "state": "granted"}).status_code == 302
    assert "on record" in owner_client.get(url).content.decode()
    assert_no_inline_code(page)
    from tests.privacy.conftest import make_customer

    theirs = make_customer(other_workspace.workspace.id)
    assert owner_client.get(f"/customers/{theirs.id}/consent").status_code == 404
