"""Reconciliation: poll the platform for orders changed since the last run, because webhooks
get lost. The position is kept per connection in ``SyncCursor`` and saved after every page,
so an interrupted run resumes where it stopped; applying an order twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from storesync.channels.apply import apply_channel_order
from storesync.channels.connectors.base import ChannelError, ChannelOrder, Connector
from storesync.channels.models import Connection, SyncCursor
from storesync.channels.services import connection_record_sync, connector_for
from storesync.core.errors import StoresyncError
from storesync.core.logs import get_logger
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

log = get_logger(__name__)

ORDERS = "orders"
MAX_PAGES = 100  # per run; the next run continues from the saved cursor
LEASE_S = 600.0
MAX_RERUNS = 5  # back-to-back runs asked for while one was under way

Apply = Callable[..., Any]


@dataclass
class ReconcileReport:
    pages: int = 0
    orders: int = 0
    failed: list[str] = field(default_factory=list)  # external ids the hub refused
    done: bool = False  # the platform said there is nothing more for now
    skipped: bool = False  # another run of this connection is under way


def sync_cursor_get(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                    stream: str) -> SyncCursor:
    with workspace_scope(workspace_id), transaction.atomic():
        cursor, _ = SyncCursor.objects.get_or_create(
            workspace_id=workspace_id, connection_id=connection_id, stream=stream)
        return cursor


def sync_cursor_lease(*, workspace_id: uuid.UUID, cursor_id: uuid.UUID,
                      lease_s: float | None) -> bool:
    """Take the cursor's run lease (False: held and not expired), or release it (None)."""
    now = timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        rows = SyncCursor.objects.filter(id=cursor_id)
        if lease_s is None:
            return bool(rows.update(lease_until=None))
        return bool(rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                    .update(lease_until=now + timedelta(seconds=lease_s)))


def sync_cursor_save(*, workspace_id: uuid.UUID, cursor_id: uuid.UUID, cursor: str,
                     updated_since: datetime | None) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        SyncCursor.objects.filter(id=cursor_id).update(
            cursor=cursor[:1000], updated_since=updated_since, last_run_at=timezone.now())


def reconcile_orders(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                     apply: Apply | None = None, connector: Connector | None = None,
                     max_pages: int = MAX_PAGES) -> ReconcileReport:
    """Fetch changed orders page by page and hand each to ``apply`` (default:
    ``channels.apply.apply_channel_order``). An order the hub refuses (a domain error) is
    logged and skipped; any other error stops the run with the cursor at the last full page.
    """
    if apply is None:
        apply = apply_channel_order
    with workspace_scope(workspace_id):
        connection = Connection.objects.get(id=connection_id)
    connector = connector or connector_for(connection)
    state = sync_cursor_get(workspace_id=workspace_id, connection_id=connection_id,
                            stream=ORDERS)
    report = ReconcileReport(skipped=True)
    for _ in range(MAX_RERUNS):
        if not _take_or_request(workspace_id, state.id):
            return report  # the run under way will run again for this request
        try:
            _set_rerun(workspace_id, state.id, False)  # this run covers every request so far
            report = _run(connection, connector, state, apply, max_pages)
        finally:
            sync_cursor_lease(workspace_id=workspace_id, cursor_id=state.id, lease_s=None)
        # Asked for again while running (a webhook arrived): run once more. Released before
        # this check, so a request made after it finds the lease free and runs itself.
        with workspace_scope(workspace_id):
            if not SyncCursor.objects.filter(id=state.id, rerun_requested=True).exists():
                break
    return report


def _take_or_request(workspace_id: uuid.UUID, cursor_id: uuid.UUID) -> bool:
    """Take the run lease; when it is held, ask its holder to run again, then try once more
    (the holder may have released it between the two)."""
    if sync_cursor_lease(workspace_id=workspace_id, cursor_id=cursor_id, lease_s=LEASE_S):
        return True
    _set_rerun(workspace_id, cursor_id, True)
    return sync_cursor_lease(workspace_id=workspace_id, cursor_id=cursor_id, lease_s=LEASE_S)


def _set_rerun(workspace_id: uuid.UUID, cursor_id: uuid.UUID, value: bool) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        SyncCursor.objects.filter(id=cursor_id).update(rerun_requested=value)


def _run(connection: Connection, connector: Connector, state: SyncCursor, apply: Apply,
         max_pages: int) -> ReconcileReport:
    workspace_id, connection_id = connection.workspace_id, connection.id
    with workspace_scope(workspace_id):
        state.refresh_from_db()  # the previous run may have moved it after we read it
    high_water, cursor = state.updated_since, state.cursor or None
    report = ReconcileReport()
    actor = audit.Actor.system(f"reconcile:{connection.platform}")
    try:
        for _ in range(max_pages):
            page = connector.import_orders(updated_since=state.updated_since, cursor=cursor)
            report.pages += 1
            for order in page.orders:
                _apply_one(apply, connection, order, actor, report)
                if high_water is None or order.updated_at > high_water:
                    high_water = order.updated_at
            cursor = page.next_cursor
            # Mid-run the filter stays as it began; the high-water mark moves once the run
            # reaches the end, so the next run asks only for what changed since.
            sync_cursor_save(workspace_id=workspace_id, cursor_id=state.id, cursor=cursor or "",
                             updated_since=state.updated_since if cursor else high_water)
            if cursor is None:
                report.done = True
                break
    except ChannelError as exc:
        connection_record_sync(workspace_id=workspace_id, connection_id=connection_id,
                               error=exc.message)
        raise
    connection_record_sync(workspace_id=workspace_id, connection_id=connection_id)
    return report


def _apply_one(apply: Apply, connection: Connection, order: ChannelOrder,
               actor: audit.Actor, report: ReconcileReport) -> None:
    try:
        apply(connection=connection, order=order, actor=actor)
        report.orders += 1
    except StoresyncError as exc:
        report.failed.append(order.external_id)
        log.warning("channel_order_refused", connection_id=str(connection.id),
                    order=order.external_id, error=exc.message, field=exc.field)
