"""Retention: what is deleted or erased when its time is up, swept on a schedule.

Each ``RetentionTarget`` names a record type, its rule in words, a query of what is due in a
workspace, and how to dispose of a batch of ids (delete, or erase personal fields). Other apps
register their own (the channels app: raw webhook payloads after 30 days) with
``register_retention_target``. A sweep first reports (dry run), then applies in batches of
set-based statements, and is recorded as a ``RetentionRun`` plus one audit event.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Address, Customer
from storesync.orders.models import AbandonedCheckout, Order
from storesync.privacy.erasure import CUSTOMER_PERSONAL, ORDER_INVOICE_FIELDS
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    LegalHold,
    RequestStatus,
    RetentionRun,
    RightsSettings,
    SubjectRestriction,
)
from storesync.security import audit
from storesync.security.models import AuditChainHead, AuditEvent

AUDIT_RETENTION = dt.timedelta(days=7 * 365)

Due = Callable[[uuid.UUID, dt.datetime, RightsSettings], "models.QuerySet[Any]"]
# Gets the primary keys of one batch as a lazy query (``due.values_list("pk")[:n]``): a plain
# delete uses it as a subquery (one statement); others turn it into a list first.
Dispose = Callable[["models.QuerySet[Any]"], int]


@dataclass(frozen=True)
class RetentionTarget:
    name: str
    rule: str
    due: Due
    dispose: Dispose | None  # None: reported, not applied (the reason is in ``rule``)


_targets: dict[str, RetentionTarget] = {}


def register_retention_target(target: RetentionTarget) -> None:
    """Add (or replace, by name) a retention target; other apps call this at startup."""
    _targets[target.name] = target


def targets() -> list[RetentionTarget]:
    return [_targets[k] for k in sorted(_targets)]


def delete_rows(model: type[models.Model]) -> Dispose:
    """Delete a batch: one ``DELETE ... WHERE pk IN (SELECT ... LIMIT n)`` when nothing
    cascades from the model (Django collects and cascades otherwise)."""

    def dispose(batch: Any) -> int:
        _, per_model = model._default_manager.filter(pk__in=batch).delete()
        return per_model.get(model._meta.label, 0)

    return dispose


def _checkouts_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    return AbandonedCheckout.objects.filter(
        abandoned_at__lt=now - dt.timedelta(days=s.abandoned_checkout_days))


def _inactive_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    cutoff = now - dt.timedelta(days=365 * s.inactive_customer_years)
    recent = Order.objects.filter(customer_id=OuterRef("pk"), placed_at__gte=cutoff)
    has_personal = Q(email__isnull=False) | Q(phone__isnull=False) | \
        Q(first_name__isnull=False) | Q(last_name__isnull=False)
    return Customer.objects.filter(has_personal, created_at__lt=cutoff).exclude(Exists(recent))


def _erase_customers(batch: Any) -> int:
    ids = list(batch)
    Address.objects.filter(customer_id__in=ids).delete()
    return Customer.objects.filter(pk__in=ids).update(
        tags=[], **dict.fromkeys(CUSTOMER_PERSONAL))


def _holds_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    return LegalHold.objects.filter(held_until__lt=now.date())


def _release_holds(batch: Any) -> int:
    holds = LegalHold.objects.filter(pk__in=list(batch))
    orders = holds.filter(record_type="orders.order").values("record_id")
    Order.objects.filter(id__in=orders).update(**dict.fromkeys(ORDER_INVOICE_FIELDS))
    return holds.delete()[0]


def _requests_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    closed = Q(status__in=[RequestStatus.COMPLETED, RequestStatus.REJECTED],
               completed_at__lt=now - dt.timedelta(days=3 * 365))
    unproven = Q(status=RequestStatus.UNVERIFIED, received_at__lt=now - dt.timedelta(days=7))
    # A restriction in force is still being honoured: its request is the proof, and the
    # handle staff lift it by, however long ago it closed.
    in_force = [SubjectRestriction.objects.filter(**{f"{flag}_by": OuterRef("pk"), flag: True})
                for flag in ("restricted", "objected", "do_not_sell")]
    return DataSubjectRequest.objects.filter(closed | unproven).exclude(
        Exists(in_force[0]) | Exists(in_force[1]) | Exists(in_force[2]))


def _exports_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    return DataSubjectRequest.objects.filter(export__isnull=False, export_expires_at__lt=now)


def _drop_exports(batch: Any) -> int:
    return DataSubjectRequest.objects.filter(pk__in=list(batch)).update(export=None)


def _audit_due(ws: uuid.UUID, now: dt.datetime, s: RightsSettings) -> Any:
    """The chain's oldest events, up to the first one younger than 7 years: only a prefix
    of a hash chain can be pruned behind a checkpoint."""
    chain = audit.chain_of(ws)
    recent = AuditEvent.objects.filter(chain=chain, occurred_at__gte=now - AUDIT_RETENTION) \
        .aggregate(first=Min("seq"))["first"]
    head = AuditChainHead.objects.filter(chain=chain).first()
    last = (recent - 1) if recent is not None else (head.seq if head else 0)
    return AuditEvent.objects.filter(chain=chain, seq__lte=last)


def _prune_audit(batch: Any) -> int:
    ends = AuditEvent.objects.filter(pk__in=list(batch)).values("chain").annotate(
        last=Max("seq"))
    return sum(audit.prune_through(row["chain"], row["last"]) for row in ends)


for _target in (
    RetentionTarget("orders.abandoned_checkout",
                    "abandoned checkouts: deleted after the workspace's period (90 days)",
                    _checkouts_due, delete_rows(AbandonedCheckout)),
    RetentionTarget("customers.inactive_customer",
                    "customers with no order for the workspace's period (3 years): personal "
                    "fields erased, addresses deleted", _inactive_due, _erase_customers),
    RetentionTarget("privacy.legal_hold",
                    "invoice fields kept for a legal obligation: erased when the hold ends",
                    _holds_due, _release_holds),
    RetentionTarget("privacy.request",
                    "closed requests kept 3 years as proof (longer while a restriction "
                    "they set is in force), unverified ones 7 days",
                    _requests_due, delete_rows(DataSubjectRequest)),
    RetentionTarget("privacy.export", "access exports: dropped 7 days after they were made",
                    _exports_due, _drop_exports),
    RetentionTarget("security.audit_event",
                    "audit events older than 7 years: the chain's oldest part is verified, "
                    "then deleted behind a keyed checkpoint", _audit_due, _prune_audit),
):
    register_retention_target(_target)


@dataclass
class TargetReport:
    name: str
    rule: str
    due: int
    disposed: int
    applied: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _settings(workspace_id: uuid.UUID) -> RightsSettings:
    return RightsSettings.objects.filter().first() or RightsSettings(workspace_id=workspace_id)


def _apply(target: RetentionTarget, qs: Any, batch_size: int, max_batches: int) -> int:
    assert target.dispose is not None
    done = 0
    for _ in range(max_batches):
        with transaction.atomic():
            disposed = target.dispose(
                qs.order_by().values_list("pk", flat=True)[:batch_size])
        if not disposed:
            break
        done += disposed
    return done


def retention_sweep(*, workspace_id: uuid.UUID, apply: bool, actor: audit.Actor,
                    now: dt.datetime | None = None, batch_size: int = 5000,
                    max_batches: int = 10_000) -> list[TargetReport]:
    """Report (``apply=False``) or dispose of everything due, target by target, in batches.
    Recorded as a ``RetentionRun`` and audited either way."""
    now = now or timezone.now()
    reports = []
    with workspace_scope(workspace_id):
        run = RetentionRun.objects.create(workspace_id=workspace_id, dry_run=not apply)
        settings = _settings(workspace_id)
        for target in targets():
            qs = target.due(workspace_id, now, settings)
            due = qs.count()
            disposed = _apply(target, qs, batch_size, max_batches) \
                if apply and due and target.dispose else 0
            reports.append(TargetReport(target.name, target.rule, due, disposed,
                                        apply and target.dispose is not None))
        run.report = [r.as_dict() for r in reports]
        run.finished_at = timezone.now()
        run.save(update_fields=["report", "finished_at"])
        audit.record(action=audit.Action.RETENTION_SWEPT, actor=actor,
                     workspace_id=workspace_id, subject_type="retention_run", subject_id=run.id,
                     detail={"dry_run": not apply,
                             **{r.name: r.disposed if apply else r.due for r in reports}})
    return reports
