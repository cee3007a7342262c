"""Reads for channel connections: health, dead letters, the engine's queues."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from storesync.channels.models import Connection, OutboxItem, OutboxState
from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.tenancy import system_scope, workspace_scope


@dataclass(frozen=True)
class ConnectionHealth:
    """What a seller needs to see whether a channel is in sync."""

    id: uuid.UUID
    platform: str
    name: str
    created_at: datetime
    last_synced_at: datetime | None
    pending: int  # listings' outbox rows not yet pushed
    dead_letters: int
    last_error: str
    last_error_at: datetime | None
    throttled_until: datetime | None


def _health(connection: Connection, pending: int, dead: int) -> ConnectionHealth:
    return ConnectionHealth(
        id=connection.id, platform=connection.platform, name=connection.name,
        created_at=connection.created_at, last_synced_at=connection.last_synced_at,
        pending=pending, dead_letters=dead, last_error=connection.last_error,
        last_error_at=connection.last_error_at, throttled_until=connection.throttled_until)


_COUNTS = {
    "pending": Count("outbox", filter=Q(outbox__state=OutboxState.PENDING)),
    "dead": Count("outbox", filter=Q(outbox__state=OutboxState.DEAD)),
}


def connection_health_list(*, workspace_id: uuid.UUID) -> list[ConnectionHealth]:
    """Every connection of the workspace with its sync health, by name."""
    with workspace_scope(workspace_id):
        rows = list(Connection.objects.annotate(**_COUNTS).order_by("name"))
    return [_health(c, c.pending, c.dead) for c in rows]


def connection_health(*, workspace_id: uuid.UUID,
                      connection_id: uuid.UUID | str) -> ConnectionHealth:
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id):
        connection = Connection.objects.annotate(**_COUNTS).filter(id=cid).first()
    if connection is None:
        raise NotFound("no such connection")
    return _health(connection, connection.pending, connection.dead)


def dead_letters(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                 limit: int = 200) -> list[OutboxItem]:
    """The connection's dead letters, newest first, with their listing and SKU."""
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id):
        if not Connection.objects.filter(id=cid).exists():
            raise NotFound("no such connection")
        return list(OutboxItem.objects.filter(connection_id=cid, state=OutboxState.DEAD)
                    .select_related("listing__variant", "fulfillment__order")
                    .order_by("-created_at")[:limit])


def outbox_totals() -> dict[str, int]:
    """Pending and dead outbox rows over every workspace (for /metrics)."""
    with system_scope():
        counts = dict(OutboxItem.objects.filter(state__in=[OutboxState.PENDING,
                                                            OutboxState.DEAD])
                      .values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state: counts.get(state, 0) for state in (OutboxState.PENDING, OutboxState.DEAD)}
