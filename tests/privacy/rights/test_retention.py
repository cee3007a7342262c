"""Retention: a dry run reports, apply disposes, in batches, audited; others may register."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.orders.models import AbandonedCheckout, Order
from storesync.privacy import retention
from storesync.privacy.requests_models import LegalHold, RetentionRun
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


def _report(reports, name):
    return next(r for r in reports if r.name == name)


def test_dry_run_reports_and_apply_deletes_old_checkouts(shop):
    with workspace_scope(shop.ws):
        AbandonedCheckout.objects.filter(id=shop.checkout.id).update(
            abandoned_at=timezone.now() - dt.timedelta(days=91))
    dry = retention.retention_sweep(workspace_id=shop.ws, apply=False, actor=ACTOR)
    assert _report(dry, "orders.abandoned_checkout").due == 1
    with workspace_scope(shop.ws):
        assert AbandonedCheckout.objects.filter(id=shop.checkout.id).exists()
    done = retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR,
                                     batch_size=1)
    assert _report(done, "orders.abandoned_checkout").disposed == 1
    with workspace_scope(shop.ws):
        assert not AbandonedCheckout.objects.filter(id=shop.checkout.id).exists()
        assert RetentionRun.objects.filter(dry_run=True).count() == 1
        events = list(AuditEvent.objects.filter(action="privacy.retention_swept")
                      .order_by("seq"))
    assert [e.detail["dry_run"] for e in events] == [True, False]
    assert events[1].detail["orders.abandoned_checkout"] == 1


def test_recent_checkouts_and_active_customers_stay(shop):
    done = retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR)
    assert all(r.disposed == 0 for r in done)
    with workspace_scope(shop.ws):
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is not None


def test_inactive_customers_are_erased_after_the_workspace_period(shop):
    later = timezone.now() + dt.timedelta(days=365 * 3 + 30)
    with workspace_scope(shop.ws):
        Customer.objects.filter(id=shop.customer.id).update(
            created_at=timezone.now() - dt.timedelta(days=10))
    done = retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR, now=later)
    assert _report(done, "customers.inactive_customer").disposed == 1
    with workspace_scope(shop.ws):
        assert Customer.objects.get(id=shop.customer.id).__dict__["email"] is None


def test_legal_holds_release_their_fields_when_they_end(shop):
    order = shop.orders[1]
    with workspace_scope(shop.ws):
        LegalHold.objects.create(workspace_id=shop.ws, record_type="orders.order",
                                 record_id=order.id, reason="test", fields=["ship_name"],
                                 held_until=dt.date(2020, 1, 1))
    retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR)
    with workspace_scope(shop.ws):
        assert Order.objects.get(id=order.id).__dict__["ship_name"] is None
        assert not LegalHold.objects.exists()


def test_other_apps_register_their_own_targets(shop):
    seen = []
    retention.register_retention_target(retention.RetentionTarget(
        "test.inbox", "raw webhook payloads after 30 days",
        lambda ws, now, s: AbandonedCheckout.objects.all(),
        lambda ids: seen.extend(ids) or len(ids)))
    try:
        dry = retention.retention_sweep(workspace_id=shop.ws, apply=False, actor=ACTOR)
        assert _report(dry, "test.inbox").due == 1 and not seen
    finally:
        retention._targets.pop("test.inbox")


def test_audit_older_than_seven_years_is_pruned_behind_a_checkpoint(shop):
    from storesync.security import audit as audit_log

    chain = str(shop.ws)
    before = AuditEvent.objects.filter(chain=chain).count()
    soon = timezone.now() + dt.timedelta(days=365 * 6)
    dry = retention.retention_sweep(workspace_id=shop.ws, apply=False, actor=ACTOR, now=soon)
    assert _report(dry, "security.audit_event").due == 0  # not 7 years old yet
    far = timezone.now() + dt.timedelta(days=365 * 8)
    done = retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR, now=far,
                                     batch_size=3)
    pruned = _report(done, "security.audit_event")
    assert pruned.applied and pruned.due == pruned.disposed >= before
    left = list(AuditEvent.objects.filter(chain=chain))
    # only what the sweep itself wrote after the cut remains, and the chain still verifies
    assert [e.action for e in left] == ["privacy.retention_swept"] * len(left)
    report = next(audit_log.verify([chain]))
    assert report.ok, report.problem


def test_closed_requests_go_after_three_years_with_their_recipients(shop):
    from storesync.privacy.requests_models import DataSubjectRequest, Propagation

    with workspace_scope(shop.ws):
        old = DataSubjectRequest.objects.create(
            workspace_id=shop.ws, kind="erasure", jurisdiction="gdpr", status="completed",
            due_at=timezone.now(), completed_at=timezone.now() - dt.timedelta(days=3 * 365 + 1))
        Propagation.objects.create(workspace_id=shop.ws, request=old, recipient_type="connection",
                                   recipient_id="x", action="erasure", state="succeeded")
    done = retention.retention_sweep(workspace_id=shop.ws, apply=True, actor=ACTOR)
    assert _report(done, "privacy.request").disposed == 1
    with workspace_scope(shop.ws):
        assert not DataSubjectRequest.objects.filter(id=old.id).exists()
        assert not Propagation.objects.exists()


def test_the_daily_job_reports_then_applies(shop):
    from storesync.privacy import rights_tasks

    with workspace_scope(shop.ws):
        AbandonedCheckout.objects.update(abandoned_at=timezone.now() - dt.timedelta(days=365))
    rights_tasks.retention_sweep_all.call_local()
    with workspace_scope(shop.ws):
        runs = sorted(RetentionRun.objects.values_list("dry_run", flat=True))
        assert runs == [False, True] and not AbandonedCheckout.objects.exists()
