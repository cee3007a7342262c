"""The staff pages for processors' notices: the privacy contact on the processors page, the
processor's answer recorded on the request's page, and the lift that tells the requester
first."""

from __future__ import annotations

import html

import pytest
from django.core import mail

from storesync.core.tenancy import workspace_scope
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.requests_models import DataSubjectRequest
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import (
    after_commit_now,  # noqa: F401  (fixture)
    submitted_and_verified,
)

pytestmark = pytest.mark.usefixtures("after_commit_now")

EMAIL = "zenobia.quill@example.com"
DPO = "privacy@courier.example"


def _courier(workspace) -> Processor:
    with workspace_scope(workspace.workspace.id):
        return Processor.objects.get(kind="courier", builtin=True)


def _page(client, url) -> str:
    return html.unescape(client.get(url).content.decode())


def test_the_processors_page_edits_the_privacy_contact(workspace, owner_client):
    courier = _courier(workspace)
    page = _page(owner_client, "/settings/privacy/processors/")
    assert "Privacy contact" in page and "none: notices wait" in page
    assert "2 processors without a privacy contact" in page
    url = f"/settings/privacy/processors/{courier.id}/contact"
    bad = owner_client.post(url, {"privacy_email": "dpo at courier"}, follow=True)
    assert "Privacy contact: not a valid email address" in html.unescape(bad.content.decode())
    saved = owner_client.post(url, {"privacy_email": DPO}, follow=True)
    assert f"{courier.name}: privacy contact saved." in html.unescape(saved.content.decode())
    assert _courier(workspace).privacy_email == DPO
    assert "1 processor without a privacy contact" in _page(
        owner_client, "/settings/privacy/processors/")


def test_a_processor_can_be_registered_with_its_contact(workspace, owner_client):
    created = owner_client.post("/settings/privacy/processors/", {
        "name": "Mailer", "kind": "email", "categories": ["user.contact.email"],
        "country": "IN", "safeguard": "domestic", "privacy_email": "dpo@mailer.example"})
    assert created.status_code == 302
    with workspace_scope(workspace.workspace.id):
        assert Processor.objects.get(name="Mailer").privacy_email == "dpo@mailer.example"


def test_only_privacy_managers_change_contacts_or_record_answers(workspace, member_client):
    staff = member_client("staff")
    courier = _courier(workspace)
    assert staff.post(f"/settings/privacy/processors/{courier.id}/contact",
                      {"privacy_email": DPO}).status_code == 403
    assert _courier(workspace).privacy_email == ""


@pytest.fixture
def told(workspace, owner_client, customer):
    """The courier got the customer's record and has a contact; the customer restricts."""
    owner_client.post(f"/settings/privacy/processors/{_courier(workspace).id}/contact",
                      {"privacy_email": DPO})
    share_payload(processor=_courier(workspace), record=customer, actor=ACTOR)
    request = submitted_and_verified(workspace.workspace.slug, "restriction", email=EMAIL)
    return request, f"/settings/privacy/requests/{request.id}/"


def _status(workspace, request) -> str:
    with workspace_scope(workspace.workspace.id):
        return DataSubjectRequest.objects.get(id=request.id).status


def test_the_request_page_records_the_processors_answer(workspace, owner_client,
                                                        member_client, told):
    request, url = told
    page = _page(owner_client, url)
    assert "<td>restriction</td><td>sent</td>" in page
    assert "awaiting its answer" in page and "Record answer" in page and "Send again" in page
    with workspace_scope(workspace.workspace.id):
        row = request.propagations.get()
    empty = owner_client.post(url, {"action": "answer", "propagation_id": str(row.id),
                                    "outcome": "confirmed", "note": ""}, follow=True)
    assert "say what the processor answered" in html.unescape(empty.content.decode())
    assert _status(workspace, request) == "in_progress"
    assert member_client("staff").post(url, {
        "action": "answer", "propagation_id": str(row.id), "outcome": "confirmed",
        "note": "x"}).status_code == 403
    done = owner_client.post(url, {
        "action": "answer", "propagation_id": str(row.id), "outcome": "confirmed",
        "note": "Courier confirmed by email 2026-11-20"}, follow=True)
    page = html.unescape(done.content.decode())
    assert f"Recorded: {row.recipient_name} confirmed." in page
    assert "Courier confirmed by email 2026-11-20" in page
    assert _status(workspace, request) == "completed"


def test_the_lift_says_the_requester_is_emailed_first_and_shows_the_notice(
        workspace, owner_client, told):
    request, url = told
    page = _page(owner_client, url)
    assert "emails the requester that their restriction is about to be lifted" in page
    assert "GDPR Art. 18(3)" in page
    lifted = html.unescape(owner_client.post(url, {"action": "lift"}, follow=True)
                           .content.decode())
    assert "the requester is emailed first (GDPR Art. 18(3))" in lifted
    assert "Requester told of the lift" in lifted and "before the lift" in lifted
    assert 'value="lift"' not in lifted
    assert any(EMAIL in m.to and "about to lift" in m.body for m in mail.outbox)
    with workspace_scope(workspace.workspace.id):
        outcome = DataSubjectRequest.objects.get(id=request.id).outcome
    assert outcome["lift_notice"]["sent_at"] <= outcome["lifted_at"]
