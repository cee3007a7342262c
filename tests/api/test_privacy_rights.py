"""``/api/v1/privacy``: data map (JSON and CSV), the staff queue, and the public endpoints."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.customers.services import CustomerInput, customer_create
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.requests_models import DataSubjectRequest
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import after_commit_now  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("after_commit_now")

KNOWN = "known.buyer@example.com"


def _code(to):
    for message in reversed(mail.outbox):
        if to in message.to:
            return re.search(r"Verification code: (\d{6})", message.body).group(1)
    raise AssertionError("no code")


def test_datamap_as_json_and_csv(owner_api, viewer_api):
    rows = owner_api.get("/api/v1/privacy/datamap").json()
    assert {"model", "field", "category", "purposes", "legal_basis", "retention",
            "recipients", "erasure"} <= set(rows[0])
    as_csv = owner_api.get("/api/v1/privacy/datamap?format=csv")
    assert as_csv["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert len(table) == len(rows)
    assert owner_api.get("/api/v1/privacy/datamap", Accept="text/csv")[
        "Content-Type"].startswith("text/csv")
    assert viewer_api.get("/api/v1/privacy/datamap").status_code == 403


def _submit(client, email, ip="203.0.113.9"):
    return client.post("/api/v1/privacy/public/acme/requests",
                       {"email": email, "kind": "erasure"}, content_type="application/json",
                       REMOTE_ADDR=ip)


def test_known_and_unknown_emails_get_the_same_answer(workspace):
    customer_create(workspace_id=workspace.workspace.id, actor=ACTOR,
                    data=CustomerInput(first_name="Kim", email=KNOWN))
    client = Client()
    known = _submit(client, KNOWN)
    unknown = _submit(client, "never.seen@example.com")
    assert known.status_code == unknown.status_code == 202
    strip = re.compile(r'"request_id": ?"[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert sorted(known.headers) == sorted(unknown.headers)
    # and so does verifying: both become pending, nothing says whether anyone matched
    answers = []
    for response, email in ((known, KNOWN), (unknown, "never.seen@example.com")):
        rid = response.json()["request_id"]
        verified = client.post(f"/api/v1/privacy/public/acme/requests/{rid}/verify",
                               {"code": _code(email)}, content_type="application/json")
        answers.append((verified.status_code, verified.json()["status"]))
    assert answers[0] == answers[1] == (200, "pending")


def test_a_verified_restriction_answers_the_same_with_or_without_recipients(workspace):
    """The known buyer's data went to a courier, which has not confirmed the restriction yet;
    the answer to verifying still cannot tell the two addresses apart."""
    ws = workspace.workspace.id
    known = customer_create(workspace_id=ws, actor=ACTOR,
                            data=CustomerInput(first_name="Kim", email=KNOWN))
    with workspace_scope(ws):
        courier = Processor.objects.get(kind="courier", builtin=True)
    share_payload(processor=courier, record=known, actor=ACTOR)
    client = Client()
    answers = []
    for email in (KNOWN, "never.seen@example.com"):
        rid = client.post("/api/v1/privacy/public/acme/requests",
                          {"email": email, "kind": "restriction"},
                          content_type="application/json").json()["request_id"]
        verified = client.post(f"/api/v1/privacy/public/acme/requests/{rid}/verify",
                               {"code": _code(email)}, content_type="application/json")
        answers.append((verified.status_code, verified.json()["status"]))
    assert answers[0] == answers[1] == (200, "completed")


def test_public_errors_name_the_field(workspace):
    client = Client()
    bad = client.post("/api/v1/privacy/public/acme/requests", {"email": "nope", "kind": "access"},
                      content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "email"
    created = _submit(client, KNOWN).json()
    wrong = client.post(f"/api/v1/privacy/public/acme/requests/{created['request_id']}/verify",
                        {"code": "12345"}, content_type="application/json")
    assert wrong.status_code == 422
    for _ in range(4):
        _submit(client, KNOWN)
    throttled = _submit(client, KNOWN)
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "throttled"


def test_staff_queue_orders_by_deadline_and_flags_overdue(owner_api, workspace):
    client = Client()
    ids = []
    for n, email in enumerate(("a@example.com", "b@example.com")):
        rid = _submit(client, email, ip=f"203.0.113.{n + 20}").json()["request_id"]
        client.post(f"/api/v1/privacy/public/acme/requests/{rid}/verify", {"code": _code(email)},
                    content_type="application/json")
        ids.append(rid)
    with workspace_scope(workspace.workspace.id):
        DataSubjectRequest.objects.filter(id=ids[1]).update(
            due_at=timezone.now() - timedelta(days=1))
    queue = owner_api.get("/api/v1/privacy/requests").json()
    assert [r["id"] for r in queue] == [ids[1], ids[0]]
    assert queue[0]["overdue"] and not queue[1]["overdue"]
    acted = owner_api.post(f"/api/v1/privacy/requests/{ids[0]}/actions",
                           {"action": "reject", "reason": "Not our customer's account."})
    assert acted.status_code == 200 and acted.json()["status"] == "rejected"
    again = owner_api.post(f"/api/v1/privacy/requests/{ids[0]}/actions", {"action": "approve"})
    assert again.status_code == 409
    approved = owner_api.post(f"/api/v1/privacy/requests/{ids[1]}/actions",
                              {"action": "approve"}).json()
    assert approved["status"] in ("in_progress", "completed")
    one = owner_api.get(f"/api/v1/privacy/requests/{ids[1]}").json()
    assert one["outcome"]["erased"]["customers"] == 0


def test_other_workspaces_requests_are_not_found(owner_api, other_workspace):
    client = Client()
    rid = client.post("/api/v1/privacy/public/globex/requests",
                      {"email": KNOWN, "kind": "access"},
                      content_type="application/json").json()["request_id"]
    assert owner_api.get(f"/api/v1/privacy/requests/{rid}").status_code == 404


def test_settings_change_the_default_jurisdiction(owner_api, workspace):
    assert owner_api.get("/api/v1/privacy/rights-settings").json()["default_jurisdiction"] == "dpdp"
    changed = owner_api.patch("/api/v1/privacy/rights-settings",
                              {"default_jurisdiction": "gdpr", "inactive_customer_years": 2})
    assert changed.status_code == 200 and changed.json()["inactive_customer_years"] == 2
    bad = owner_api.patch("/api/v1/privacy/rights-settings", {"abandoned_checkout_days": 0})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "abandoned_checkout_days"
    created = Client().post("/api/v1/privacy/public/acme/requests",
                            {"email": KNOWN, "kind": "access"}, content_type="application/json")
    assert created.status_code == 202
    with workspace_scope(workspace.workspace.id):
        assert DataSubjectRequest.objects.get().jurisdiction == "gdpr"
