"""Writes for channel connections."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from storesync.channels.models import Connection, Platform
from storesync.core.errors import Conflict, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security import audit


def connection_create(
    *,
    workspace_id: uuid.UUID,
    platform: str,
    name: str,
    credentials: dict[str, Any],
    webhook_secret: str,
    actor: audit.Actor,
) -> Connection:
    """Store a connection with its credentials encrypted under the workspace's data key."""
    if platform not in Platform.values:
        raise ValidationError(f"platform is one of {', '.join(Platform.values)}", field="platform")
    if not name.strip():
        raise ValidationError("a connection needs a name", field="name")
    if len(webhook_secret) < 16:
        raise ValidationError("a webhook secret has at least 16 characters", field="webhook_secret")
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            connection = Connection.objects.create(
                workspace_id=workspace_id,
                platform=platform,
                name=name.strip(),
                credentials=json.dumps(credentials, sort_keys=True),
                webhook_secret=webhook_secret,
            )
            audit.record(
                action=audit.Action.CONNECTION_CREATED,
                actor=actor,
                workspace_id=workspace_id,
                subject_type="connection",
                subject_id=connection.id,
                detail={"platform": platform},
            )
    except IntegrityError:
        raise Conflict(f"a connection named {name!r} exists", field="name") from None
    return connection


def connection_credentials(connection: Connection) -> dict[str, Any]:
    """The decrypted credentials, for the connector only."""
    return dict(json.loads(connection.credentials or "{}"))
