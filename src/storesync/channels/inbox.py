"""The inbox: verified webhooks stored once, processed later by a worker.

``inbox_receive`` is all the HTTP request does: find the connection, let its connector verify
the signature over the raw body, store the event (encrypted: payloads carry buyers' personal
data) unless the platform's event id was seen before, and enqueue processing after commit.
``inbox_process`` runs in the worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from storesync.channels.connectors.base import Topic
from storesync.channels.models import Connection, InboxEvent, InboxState
from storesync.channels.services import connection_record_sync, connector_for
from storesync.core.errors import NotFound
from storesync.core.logs import get_logger
from storesync.core.tenancy import system_scope, workspace_scope

log = get_logger(__name__)

# Order changes are fetched from the platform by reconciliation (the same path polling takes),
# so a lost, late or out-of-order webhook and a delivered one end in the same state.
ORDER_TOPICS = frozenset({Topic.ORDER_CREATED, Topic.ORDER_UPDATED, Topic.ORDER_CANCELLED,
                          Topic.REFUND_CREATED})
# Kept until the privacy engine consumes them: a data-subject request is never dropped.
PRIVACY_TOPICS = frozenset({Topic.CUSTOMER_DATA_REQUEST, Topic.CUSTOMER_REDACT,
                            Topic.SHOP_REDACT})


class Received(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    PING = "ping"


@dataclass(frozen=True)
class InboxResult:
    outcome: Received
    event_id: str
    inbox_id: uuid.UUID | None = None


def _connection(platform: str, connection_id: str) -> Connection:
    try:
        cid = uuid.UUID(connection_id)
    except ValueError:
        raise NotFound("no such connection") from None
    # The URL names the connection, not the workspace: found across workspaces, then every
    # further query runs in the connection's own workspace.
    with system_scope():
        connection = Connection.objects.filter(id=cid, platform=platform).first()
    if connection is None:
        raise NotFound("no such connection")
    return connection


def inbox_receive(*, platform: str, connection_id: str, headers: Mapping[str, str],
                  body: bytes) -> InboxResult:
    """Verify and store one webhook delivery. Raises NotFound (unknown connection or platform)
    and ``InvalidWebhook`` (bad signature: status 401; malformed: 400), storing nothing."""
    connection = _connection(platform, connection_id)
    event = connector_for(connection).verify_webhook(
        headers=headers, body=body, secret=connection.webhook_secret or "")
    if event.topic == Topic.PING:
        return InboxResult(Received.PING, event.event_id)
    workspace_id = connection.workspace_id
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            stored = InboxEvent.objects.create(
                workspace_id=workspace_id, connection_id=connection.id,
                event_id=event.event_id[:255], topic=event.topic.value,
                platform_topic=event.platform_topic[:128],
                resource_id=event.resource_id[:255],
                payload=body.decode("utf-8", errors="replace"))
            transaction.on_commit(lambda: _enqueue_process(workspace_id, stored.id))
    except IntegrityError:
        return InboxResult(Received.DUPLICATE, event.event_id)
    return InboxResult(Received.STORED, event.event_id, stored.id)


def _enqueue_process(workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> None:
    from storesync.channels.tasks import process_inbox_event

    process_inbox_event(str(workspace_id), str(inbox_id))


def inbox_process(*, workspace_id: uuid.UUID, inbox_id: uuid.UUID) -> InboxState | None:
    """Act on a stored event once: order topics start a reconciliation of the connection;
    an uninstall shows on the connection's health; privacy topics are held for the privacy
    engine; the rest are recorded. Returns the new state (None if the event is gone or was
    already handled)."""
    with workspace_scope(workspace_id), transaction.atomic():
        event = (InboxEvent.objects.select_for_update()
                 .filter(id=inbox_id, state=InboxState.RECEIVED).first())
        if event is None:
            return None
        topic = event.topic
        state = InboxState.HELD if topic in PRIVACY_TOPICS else InboxState.PROCESSED
        InboxEvent.objects.filter(id=event.id).update(
            state=state, attempts=event.attempts + 1, processed_at=timezone.now())
        connection_id = event.connection_id
        if topic in ORDER_TOPICS:
            transaction.on_commit(lambda: _enqueue_reconcile(workspace_id, connection_id))
        elif topic == Topic.APP_UNINSTALLED:
            # Every push will now fail as AuthFailed; say why on the connection's health.
            connection_record_sync(workspace_id=workspace_id, connection_id=connection_id,
                                   error="the app was uninstalled from the shop")
    log.info("webhook_processed", inbox_id=str(inbox_id), topic=topic, state=state.value)
    return state


def _enqueue_reconcile(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    from storesync.channels.tasks import reconcile_connection_orders

    reconcile_connection_orders(str(workspace_id), str(connection_id))
