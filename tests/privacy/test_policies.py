"""Policy versions: publishing notifies members (banner, mail) and customers who accepted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from storesync.core.errors import Conflict, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.privacy import policies
from storesync.privacy.governance_models import PolicyMailing
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR
from tests.privacy.conftest import make_customer


def _publish(ws, version, **extra):
    return policies.policy_publish(
        workspace_id=ws, version=version, body=f"Policy text {version}",
        summary=extra.pop("summary", "We now share addresses with a second courier."),
        effective_at=extra.pop("effective_at", timezone.now() - timedelta(minutes=1)),
        actor=ACTOR, **extra)


def test_publish_notifies_members_and_customers_who_accepted_an_older_version(
        ws, workspace, customer, django_capture_on_commit_callbacks):
    quiet = make_customer(ws, email="never.accepted@example.com")
    v1 = _publish(ws, "2026-01", effective_at=timezone.now() - timedelta(days=30))
    policies.policy_accept(workspace_id=ws, policy_id=v1.id, source="checkout", actor=ACTOR,
                           subject=Subject("customer", str(customer.id)))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        v2 = _publish(ws, "2026-11")
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["asha.rao@example.com", "owner@acme.example"]
    assert "never.accepted@example.com" not in recipients and quiet
    assert "second courier" in mail.outbox[0].body and "/privacy/acme/policy" in mail.outbox[0].body
    assert policies.policy_pending_notice(workspace_id=ws, user_id=workspace.owner.id) == v2
    policies.policy_acknowledge(workspace_id=ws, policy_id=v2.id, user_id=workspace.owner.id)
    assert policies.policy_pending_notice(workspace_id=ws, user_id=workspace.owner.id) is None
    with workspace_scope(ws):
        assert PolicyMailing.objects.filter(policy=v2).count() == 2


def test_a_retried_job_does_not_mail_twice(ws, workspace, django_capture_on_commit_callbacks):
    from storesync.privacy.tasks import send_policy_change_notices

    with django_capture_on_commit_callbacks(execute=True):
        v1 = _publish(ws, "v1")
    assert len(mail.outbox) == 1
    send_policy_change_notices.call_local(str(ws), str(v1.id))
    assert len(mail.outbox) == 1


def test_current_version_and_history(ws):
    old = _publish(ws, "v1", effective_at=timezone.now() - timedelta(days=10))
    upcoming = _publish(ws, "v2", effective_at=timezone.now() + timedelta(days=10))
    assert policies.policy_current(workspace_id=ws) == old
    assert policies.policy_list(workspace_id=ws) == [upcoming, old]
    _, current, history = policies.policy_public(slug="acme")
    assert current == old and len(history) == 2


def test_bad_input(ws):
    with pytest.raises(ValidationError) as exc:
        _publish(ws, "v1", summary=" ")
    assert exc.value.field == "summary"
    with pytest.raises(ValidationError) as exc:
        policies.policy_publish(workspace_id=ws, version="v1", summary="x", actor=ACTOR,
                                effective_at=timezone.now())
    assert exc.value.field == "body"
    _publish(ws, "v1")
    with pytest.raises(Conflict):
        _publish(ws, "v1")


def test_notices_are_sent_in_batches(ws, workspace, monkeypatch,
                                     django_capture_on_commit_callbacks):
    from storesync.privacy import tasks

    v1 = _publish(ws, "v1", effective_at=timezone.now() - timedelta(days=30))
    for index in range(3):
        buyer = make_customer(ws, email=f"buyer{index}@example.com")
        policies.policy_accept(workspace_id=ws, policy_id=v1.id, source="checkout",
                               actor=ACTOR, subject=Subject("customer", str(buyer.id)))
    monkeypatch.setattr(tasks, "MAIL_BATCH", 2)
    connections = []
    real = tasks.get_connection

    def counting(*args, **kwargs):
        connections.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "get_connection", counting)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _publish(ws, "v2")
    assert len(mail.outbox) == 4 and len(connections) == 2  # owner + 3 buyers, 2 per batch
