"""Background jobs of the channel engine: process webhooks, drain outboxes, reconcile."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from storesync.channels import dispatcher, drift, inbox, outbox, reconcile
from storesync.channels.models import OutboxItem, OutboxState
from storesync.core.logs import get_logger
from storesync.core.tenancy import system_scope

log = get_logger(__name__)


@db_task(retries=5, retry_delay=30)
def process_inbox_event(workspace_id: str, inbox_id: str) -> None:
    """Act on one stored webhook (retried: a database hiccup delays it, never loses it)."""
    inbox.inbox_process(workspace_id=uuid.UUID(workspace_id), inbox_id=uuid.UUID(inbox_id))


@db_task()
def dispatch_connection(workspace_id: str, connection_id: str) -> None:
    """Drain one connection's outbox; schedule the next drain when rows wait for a retry."""
    report = dispatcher.drain_connection(workspace_id=uuid.UUID(workspace_id),
                                         connection_id=uuid.UUID(connection_id))
    if report.skipped:
        return  # the dispatcher holding the lease picks up what is due, or the sweep does
    if report.retry_at is not None:
        schedule_dispatch(uuid.UUID(workspace_id), uuid.UUID(connection_id), report.retry_at)


def enqueue_dispatch(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    """Drain this connection soon (call after commit)."""
    dispatch_connection(str(workspace_id), str(connection_id))


def schedule_dispatch(workspace_id: uuid.UUID, connection_id: uuid.UUID,
                      at: datetime) -> None:
    if HUEY.immediate:
        return  # tests drive retries themselves; the sweep does in production too
    delay_s = max((at - timezone.now()).total_seconds(), 0.0)
    dispatch_connection.schedule((str(workspace_id), str(connection_id)), delay=delay_s)


@db_periodic_task(crontab(minute="*"))
def sweep_outboxes() -> int:
    """Every minute: drain every connection with due rows (a lost job or a restart leaves
    nothing stuck)."""
    with system_scope():
        due = set(OutboxItem.objects.filter(
            state=OutboxState.PENDING, next_attempt_at__lte=timezone.now(),
        ).values_list("workspace_id", "connection_id").distinct())
    for workspace_id, connection_id in sorted(due):
        enqueue_dispatch(workspace_id, connection_id)
    return len(due)


@db_task(retries=3, retry_delay=60)
def reconcile_connection_orders(workspace_id: str, connection_id: str) -> None:
    """Fetch and apply the orders changed on the platform since the last run."""
    report = reconcile.reconcile_orders(workspace_id=uuid.UUID(workspace_id),
                                        connection_id=uuid.UUID(connection_id))
    log.info("orders_reconciled", connection_id=connection_id, pages=report.pages,
             orders=report.orders, refused=len(report.failed))


@db_periodic_task(crontab(minute="*/15"))
def reconcile_all_orders() -> int:
    """Every 15 minutes: poll every connection whose platform has a connector."""
    connections = _connections_with_connector()
    for workspace_id, connection_id in connections:
        reconcile_connection_orders(str(workspace_id), str(connection_id))
    return len(connections)


@db_periodic_task(crontab(hour="4", minute="41"))
def purge_pushed_outbox_rows() -> int:
    """Daily: forget outbox rows pushed more than a week ago."""
    return outbox.outbox_purge_done()


@db_task(retries=2, retry_delay=300)
def check_connection_drift(workspace_id: str, connection_id: str) -> None:
    """Compare the channel's quantities with the hub's and queue pushes where they differ."""
    report = drift.drift_check(workspace_id=uuid.UUID(workspace_id),
                               connection_id=uuid.UUID(connection_id))
    log.info("stock_drift_checked", connection_id=connection_id, checked=report.checked,
             drifted=report.drifted)


@db_periodic_task(crontab(minute="23", hour="*/4"))
def check_all_drift() -> int:
    """Every four hours: a drift check of every connection whose platform has a connector."""
    connections = _connections_with_connector()
    for workspace_id, connection_id in connections:
        check_connection_drift(str(workspace_id), str(connection_id))
    return len(connections)


def _connections_with_connector() -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(workspace id, connection id) of every connection whose platform's package exists."""
    from storesync.channels.connectors.registry import MODULES, connector_class
    from storesync.channels.models import Connection

    platforms = []
    for platform in MODULES:
        try:
            connector_class(platform)
        except (LookupError, ImportError):
            continue
        platforms.append(platform)
    with system_scope():
        return list(Connection.objects.filter(platform__in=platforms)
                    .values_list("workspace_id", "id"))
