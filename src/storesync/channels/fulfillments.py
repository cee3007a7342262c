"""Shipments of channel orders, told to their channel through the outbox.

``orders.fulfillment.fulfillment_create`` sends ``orders.signals.fulfillment_created`` inside
its transaction; ``on_fulfillment_created`` writes an outbox row of kind ``fulfillment`` in
that same transaction, so a shipment and the promise to tell the channel commit together. The
dispatcher calls ``push_due_fulfillments`` after the quantity pushes of a drain: each row
becomes one ``connector.push_fulfillment`` with the channel's own line ids, the carrier and
the tracking number. Failures back off and dead-letter exactly like quantity pushes.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.channels import outbox
from storesync.channels.connectors.base import (
    ChannelError,
    Connector,
    FulfillmentPush,
    Throttled,
)
from storesync.channels.models import Connection, OutboxItem, OutboxKind, OutboxState
from storesync.core.logs import get_logger
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Fulfillment

log = get_logger(__name__)

BATCH = 50  # shipments pushed per drain; the rest wait for the next drain


def on_fulfillment_created(sender: Any, *, workspace_id: uuid.UUID, order_id: uuid.UUID,
                           fulfillment_id: uuid.UUID, connection_id: uuid.UUID,
                           **kwargs: Any) -> None:
    """``orders.signals.fulfillment_created`` receiver: an outbox row in the caller's
    transaction, and a drain of the connection once it commits."""
    with workspace_scope(workspace_id):
        if not Connection.objects.filter(id=connection_id).exists():
            return  # the connection was removed: nobody to tell
        OutboxItem.objects.create(workspace_id=workspace_id, connection_id=connection_id,
                                  kind=OutboxKind.FULFILLMENT, fulfillment_id=fulfillment_id,
                                  next_attempt_at=timezone.now())

    def enqueue() -> None:
        from storesync.channels.tasks import enqueue_dispatch

        enqueue_dispatch(workspace_id, connection_id)

    transaction.on_commit(enqueue)


def fulfillment_push_for(fulfillment: Fulfillment) -> FulfillmentPush:
    """What the channel is told about one shipment: its own line ids and quantities (lines
    the channel does not know, added in the hub, are left out), carrier and tracking."""
    lines = tuple((line.line.external_id, line.quantity)
                  for line in fulfillment.lines.select_related("line").order_by("id")
                  if line.line.external_id)
    return FulfillmentPush(order_external_id=fulfillment.order.external_id, lines=lines,
                           carrier=fulfillment.tracking_company,
                           tracking_number=fulfillment.tracking_number,
                           tracking_url=fulfillment.tracking_url)


def _due(connection: Connection) -> list[tuple[OutboxItem, FulfillmentPush | None]]:
    now = timezone.now()
    with workspace_scope(connection.workspace_id):
        rows = list(OutboxItem.objects.filter(
            connection_id=connection.id, kind=OutboxKind.FULFILLMENT,
            state=OutboxState.PENDING, next_attempt_at__lte=now,
        ).select_related("fulfillment__order").order_by("created_at", "id")[:BATCH])
        return [(row, fulfillment_push_for(row.fulfillment) if row.fulfillment else None)
                for row in rows]


def _mark(connection: Connection, row: OutboxItem, **changes: Any) -> None:
    with workspace_scope(connection.workspace_id), transaction.atomic():
        OutboxItem.objects.filter(id=row.id, state=OutboxState.PENDING).update(**changes)


def _fail(connection: Connection, row: OutboxItem, error: str, retryable: bool) -> bool:
    """Back off, or dead-letter; True when the row is now dead."""
    attempts = row.attempts + 1
    if not retryable or attempts >= outbox.MAX_ATTEMPTS:
        _mark(connection, row, state=OutboxState.DEAD, attempts=attempts, last_error=error[:500])
        return True
    retry_at = timezone.now() + timedelta(seconds=outbox.backoff_delay_s(attempts))
    _mark(connection, row, attempts=attempts, next_attempt_at=retry_at, last_error=error[:500])
    return False


def push_due_fulfillments(connection: Connection, connector: Connector
                          ) -> tuple[int, int, int, list[str], datetime | None]:
    """Push the connection's due shipments, one call each (no database transaction open
    during a call). Returns (pushed, failed, dead, errors, throttled_until)."""
    pushed = failed = dead = 0
    errors: list[str] = []
    for row, push in _due(connection):
        if push is None or not push.order_external_id or not push.lines:
            # Nothing the channel knows was shipped (lines added in the hub only).
            _mark(connection, row, state=OutboxState.DONE, done_at=timezone.now())
            continue
        try:
            external_id = connector.push_fulfillment(push)
        except Throttled as exc:
            return pushed, failed, dead, errors, timezone.now() + timedelta(
                seconds=max(exc.retry_after_s, 0.0))
        except ChannelError as exc:
            errors.append(exc.message)
            if _fail(connection, row, exc.message, exc.retryable):
                dead += 1
            else:
                failed += 1
            log.warning("channel_fulfillment_failed", connection_id=str(connection.id),
                        order=push.order_external_id, error=exc.message,
                        retryable=exc.retryable)
            continue
        _mark(connection, row, state=OutboxState.DONE, done_at=timezone.now(),
              external_id=str(external_id)[:255], last_error="")
        pushed += 1
    return pushed, failed, dead, errors, None
