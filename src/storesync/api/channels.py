"""``/api/v1/connections``: channel connections, their sync health and dead letters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from storesync.api.auth import require
from storesync.channels import outbox, selectors
from storesync.channels.models import OutboxItem
from storesync.core.permissions import Perm

router = Router(tags=["channels"])


class ConnectionOut(Schema):
    id: uuid.UUID
    platform: str
    name: str
    created_at: datetime
    last_synced_at: datetime | None
    pending: int
    dead_letters: int
    last_error: str
    last_error_at: datetime | None
    throttled_until: datetime | None


class DeadLetterOut(Schema):
    id: uuid.UUID
    listing_id: uuid.UUID
    sku: str
    attempts: int
    last_error: str
    created_at: datetime


class ReplayOut(Schema):
    replayed: int


def _dead_letter_out(item: OutboxItem) -> dict[str, Any]:
    return {"id": item.id, "listing_id": item.listing_id, "sku": item.listing.variant.sku,
            "attempts": item.attempts, "last_error": item.last_error,
            "created_at": item.created_at}


@router.get("", response=list[ConnectionOut], summary="Connections and their sync health")
def list_connections(request: HttpRequest) -> list[selectors.ConnectionHealth]:
    who = require(request, Perm.VIEW_REPORTS)
    return selectors.connection_health_list(workspace_id=who.workspace_id)


@router.get("/{connection_id}", response=ConnectionOut, summary="One connection's sync health")
def get_connection(request: HttpRequest, connection_id: str) -> selectors.ConnectionHealth:
    who = require(request, Perm.VIEW_REPORTS)
    return selectors.connection_health(workspace_id=who.workspace_id,
                                       connection_id=connection_id)


@router.get("/{connection_id}/dead-letters", response=list[DeadLetterOut],
            summary="Quantity pushes parked after repeated failures")
def list_dead_letters(request: HttpRequest, connection_id: str) -> list[dict[str, Any]]:
    who = require(request, Perm.MANAGE_CHANNELS)
    return [_dead_letter_out(item) for item in
            selectors.dead_letters(workspace_id=who.workspace_id, connection_id=connection_id)]


@router.post("/{connection_id}/dead-letters/replay", response=ReplayOut,
             summary="Push the dead letters again (after fixing their cause)")
def replay_dead_letters(request: HttpRequest, connection_id: str) -> dict[str, int]:
    who = require(request, Perm.MANAGE_CHANNELS)
    replayed = outbox.dead_letter_replay(workspace_id=who.workspace_id,
                                         connection_id=connection_id, actor=who.actor)
    return {"replayed": replayed}
