"""Data-subject requests: verification codes, deadlines, no enumeration, access exports."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.privacy import deadlines, downloads, services, verification
from storesync.privacy.requests_models import DataSubjectRequest, RequestStatus
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import EMAIL, code_in_mail, link_in_mail, submitted_and_verified

IP = "203.0.113.7"


def _status(ws, request_id):
    with workspace_scope(ws):
        return DataSubjectRequest.objects.get(id=request_id)


def test_code_is_six_digits_hashed_at_rest_and_mailed(shop):
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access",
                                  client_ip=IP)
    code = code_in_mail(EMAIL)
    stored = _status(shop.ws, request.id)
    assert len(code) == 6 and stored.code_hash and code not in stored.code_hash
    assert stored.status == RequestStatus.UNVERIFIED


def test_wrong_code_changes_nothing_and_says_why(shop):
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="erasure",
                                  client_ip=IP)
    wrong = "000000" if code_in_mail(EMAIL) != "000000" else "111111"
    with pytest.raises(ValidationError, match="not right"):
        services.dsr_verify(workspace_slug=shop.slug, request_id=request.id, code=wrong,
                            client_ip=IP)
    stored = _status(shop.ws, request.id)
    assert stored.status == RequestStatus.UNVERIFIED and stored.code_attempts == 1


def test_five_wrong_codes_lock_the_request_even_for_the_right_code(shop):
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access",
                                  client_ip=IP)
    code = code_in_mail(EMAIL)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(ValidationError):
            services.dsr_verify(workspace_slug=shop.slug, request_id=request.id, code=wrong,
                                client_ip=IP)
    with pytest.raises(ValidationError, match="too many wrong codes"):
        services.dsr_verify(workspace_slug=shop.slug, request_id=request.id, code=code,
                            client_ip=IP)
    assert _status(shop.ws, request.id).status == RequestStatus.UNVERIFIED


def test_expired_code_is_refused(shop):
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access",
                                  client_ip=IP)
    with workspace_scope(shop.ws):
        DataSubjectRequest.objects.filter(id=request.id).update(
            code_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        services.dsr_verify(workspace_slug=shop.slug, request_id=request.id,
                            code=code_in_mail(EMAIL), client_ip=IP)
    assert _status(shop.ws, request.id).status == RequestStatus.UNVERIFIED


def test_replayed_code_is_refused(shop):
    done = submitted_and_verified(shop.slug, "restriction")
    with pytest.raises(Conflict, match="works once"):
        services.dsr_verify(workspace_slug=shop.slug, request_id=done.id,
                            code=code_in_mail(EMAIL), client_ip=IP)


def test_submissions_are_throttled_per_email_and_per_ip(shop):
    for _ in range(verification.SUBMISSIONS_PER_EMAIL_HOUR):
        services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access", client_ip=IP)
    with pytest.raises(verification.Throttled, match="this email address"):
        services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access", client_ip=IP)
    for i in range(verification.SUBMISSIONS_PER_IP_HOUR - verification.SUBMISSIONS_PER_EMAIL_HOUR
                   - 1):
        services.dsr_submit(workspace_slug=shop.slug, email=f"p{i}@example.com", kind="access",
                            client_ip=IP)
    with pytest.raises(verification.Throttled, match="network"):
        services.dsr_submit(workspace_slug=shop.slug, email="new@example.com", kind="access",
                            client_ip=IP)
    services.dsr_submit(workspace_slug=shop.slug, email="new@example.com", kind="access",
                        client_ip="198.51.100.2")  # another network still may


def test_verification_attempts_are_throttled_per_ip(shop, monkeypatch):
    monkeypatch.setattr(verification, "ATTEMPTS_PER_IP_HOUR", 2)
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access",
                                  client_ip=IP)
    for _ in range(2):
        with pytest.raises(ValidationError):
            services.dsr_verify(workspace_slug=shop.slug, request_id=request.id, code="999999"
                                if code_in_mail(EMAIL) != "999999" else "888888", client_ip=IP)
    with pytest.raises(verification.Throttled):
        services.dsr_verify(workspace_slug=shop.slug, request_id=request.id,
                            code=code_in_mail(EMAIL), client_ip=IP)
    assert _status(shop.ws, request.id).status == RequestStatus.UNVERIFIED


def test_deadlines_per_jurisdiction():
    received = datetime(2026, 1, 31, 10, tzinfo=UTC)
    assert deadlines.due_at("gdpr", received) == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert deadlines.due_at("ccpa", received) == received + timedelta(days=45)
    assert deadlines.due_at("dpdp", received) == received + timedelta(days=90)


def test_requester_may_state_their_jurisdiction(shop):
    request = services.dsr_submit(workspace_slug=shop.slug, email=EMAIL, kind="access",
                                  jurisdiction="gdpr", client_ip=IP)
    default = services.dsr_submit(workspace_slug=shop.slug, email="x@example.com",
                                  kind="access", client_ip=IP)
    assert request.jurisdiction == "gdpr" and default.jurisdiction == "dpdp"
    assert request.due_at < default.due_at


def test_unknown_workspace_is_not_found(db):
    with pytest.raises(NotFound):
        services.dsr_submit(workspace_slug="nobody", email=EMAIL, kind="access", client_ip=IP)


def test_access_export_holds_everything_with_uses_and_recipients(shop, client):
    from storesync.privacy.consent import consent_record
    from storesync.privacy.subjects import Subject as ConsentSubject

    consent_record(workspace_id=shop.ws, subject=ConsentSubject("customer", str(shop.customer.id)),
                   purpose="analytics", state="granted", source="storefront_banner",
                   actor=ACTOR)
    submitted_and_verified(shop.slug, "access")
    link = link_in_mail(EMAIL)
    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)
                                         if response.streaming else response.content))
    names = set(archive.namelist())
    assert {"subject.json", "about.json", "customer.csv", "orders.csv", "order_lines.csv",
            "abandoned_checkouts.csv", "access_log.csv", "addresses.csv"} <= names
    data = json.loads(archive.read("subject.json"))
    assert data["customer"][0]["email"] == EMAIL and data["customer"][0]["first_name"] == "Meera"
    assert len(data["orders"]) == 2 and data["orders"][0]["ship_city"] == "Pune"
    assert data["addresses"][0]["line1"] == "12 MG Road"
    assert data["abandoned_checkouts"][0]["email"] == EMAIL
    assert any(e["action"] == "customer.created" for e in data["access_log"])
    assert [(c["purpose"], c["state"]) for c in data["consents"]] == [("analytics", "granted")]
    about = json.loads(archive.read("about.json"))["categories"]
    assert "order_fulfilment" in about["user.contact.address.street"]["used_for"]
    assert about["user.contact.phone"]["received_by"]
    assert "Meera" in archive.read("customer.csv").decode()
    # once only, and the download is audited
    assert client.get(link).status_code == 404
    with workspace_scope(shop.ws):
        assert AuditEvent.objects.filter(action="privacy.export_downloaded").count() == 1


def test_download_link_expires(shop):
    submitted_and_verified(shop.slug, "portability")
    token = link_in_mail(EMAIL).rsplit("/", 1)[1]
    with workspace_scope(shop.ws):
        DataSubjectRequest.objects.update(export_expires_at=timezone.now())
    with pytest.raises(NotFound):
        downloads.export_download(workspace_slug=shop.slug, token=token)


def test_no_code_reaches_anyone_but_the_address(shop):
    mail.outbox.clear()
    services.dsr_submit(workspace_slug=shop.slug, email="stranger@example.com", kind="access",
                        client_ip=IP)
    assert [m.to for m in mail.outbox] == [["stranger@example.com"]]
