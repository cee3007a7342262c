"""The public privacy centre and the staff queue of privacy requests."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.requests_models import DataSubjectRequest
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import after_commit_now  # noqa: F401  (fixture)
from tests.web.conftest import assert_no_inline_code

pytestmark = pytest.mark.usefixtures("after_commit_now")


def _code(to):
    for message in reversed(mail.outbox):
        if to in message.to:
            return re.search(r"Verification code: (\d{6})", message.body).group(1)
    raise AssertionError("no code")


def _submit(client, email, kind="access"):
    return client.post("/privacy/acme/", {"kind": kind, "email": email, "jurisdiction": ""})


def test_the_centre_is_public_and_has_no_staff_navigation(workspace):
    page = Client().get("/privacy/acme/")
    html = page.content.decode()
    assert page.status_code == 200 and "Acme Traders" in html
    assert "Dashboard" not in html and "Sign out" not in html
    assert_no_inline_code(html, "privacy centre")
    assert page["Cache-Control"] == "no-store"
    assert Client().get("/privacy/no-such-shop/").status_code == 404


def test_known_and_unknown_addresses_see_the_same_pages(workspace, customer):
    client = Client()
    pages = []
    for email in ("zenobia.quill@example.com", "never.seen@example.com"):
        submitted = _submit(client, email)
        assert submitted.status_code == 302
        page = client.get(submitted["Location"]).content.decode()
        verified = client.post(submitted["Location"], {"code": _code(email)})
        after = client.get(verified["Location"]).content.decode()
        pages.append([re.sub(r'[0-9a-f-]{36}|name="csrfmiddlewaretoken" value="[^"]+"', "X", p)
                      for p in (page, after)])
    assert pages[0] == pages[1]


def test_a_wrong_code_says_so(workspace):
    client = Client()
    submitted = _submit(client, "someone@example.com", kind="erasure")
    code = _code("someone@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.post(submitted["Location"], {"code": wrong})
    assert page.status_code == 400 and "not right" in page.content.decode()


def test_staff_queue_shows_overdue_requests_first(workspace, owner_client):
    client = Client()
    for email in ("a@example.com", "b@example.com"):
        location = _submit(client, email, kind="erasure")["Location"]
        client.post(location, {"code": _code(email)})
    with workspace_scope(workspace.workspace.id):
        late = DataSubjectRequest.objects.order_by("received_at").last()
        DataSubjectRequest.objects.filter(id=late.id).update(
            due_at=timezone.now() - timedelta(days=2))
    page = owner_client.get("/settings/privacy/requests/")
    html = page.content.decode()
    assert page.status_code == 200 and "1 overdue" in html
    assert html.index(str(late.id)) < html.index("days left")
    assert_no_inline_code(html, "privacy queue")
    page = owner_client.get(f"/settings/privacy/requests/{late.id}/").content.decode()
    assert "Approve and carry out" in page and "overdue" in page
    assert_no_inline_code(page, "privacy request")
    detail = owner_client.post(f"/settings/privacy/requests/{late.id}/", {"action": "approve"})
    assert detail.status_code == 302
    with workspace_scope(workspace.workspace.id):
        assert DataSubjectRequest.objects.get(id=late.id).status == "completed"


def test_the_queue_needs_the_privacy_permission(workspace, member_client):
    assert member_client("staff").get("/settings/privacy/requests/").status_code == 403


def test_a_restriction_reads_the_same_whether_or_not_anyone_is_still_being_told(
        workspace, customer):
    """The known customer's courier has not confirmed the restriction yet (the request is
    in progress for staff); the requester's page still reads as for an unknown address."""
    with workspace_scope(workspace.workspace.id):
        courier = Processor.objects.get(kind="courier", builtin=True)
    share_payload(processor=courier, record=customer, actor=ACTOR)
    client = Client()
    pages = []
    for email in ("zenobia.quill@example.com", "never.seen@example.com"):
        submitted = _submit(client, email, kind="restriction")
        verified = client.post(submitted["Location"], {"code": _code(email)})
        page = client.get(verified["Location"]).content.decode()
        assert 'data-status="completed"' in page and "told too" in page
        pages.append(re.sub(r'[0-9a-f-]{36}', "X", page))
    assert pages[0] == pages[1]
    with workspace_scope(workspace.workspace.id):
        statuses = set(DataSubjectRequest.objects.values_list("status", flat=True))
    assert statuses == {"in_progress", "completed"}  # staff see the difference
