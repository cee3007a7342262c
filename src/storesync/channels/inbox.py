"""The inbox: verified webhooks stored once, processed later by a worker.

``inbox_receive`` is all the HTTP request does: find the connection, let its connector verify
the signature over the raw body, store the event (encrypted: payloads carry buyers' personal
data) unless the platform's event id was seen before, and enqueue processing after commit.
``inbox_process`` runs in the worker.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from storesync.catalog.listings import listing_record_channel_quantities
from storesync.catalog.models import Listing, ListingStatus
from storesync.channels import catalog_events
from storesync.channels.apply import apply_channel_order, apply_channel_refund
from storesync.channels.connectors.base import (
    ChannelError,
    ChannelLevel,
    ChannelOrder,
    ChannelProduct,
    ChannelRefund,
    InvalidWebhook,
    Topic,
    WebhookEvent,
)
from storesync.channels.models import Connection, InboxEvent, InboxState
from storesync.channels.quantities import channel_quantities
from storesync.channels.services import connection_record_sync, connector_for, queue_push
from storesync.core.errors import NotFound, StoresyncError
from storesync.core.logs import get_logger
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.security.access import Purpose, personal_data_access
from storesync.security.audit import Actor

log = get_logger(__name__)

INBOX_ACTOR = Actor.system("inbox")
# Order events are applied from their body; the orders app ignores a version older than the
# one it has, so a late or out-of-order webhook changes nothing, and reconciliation (the same
# path polling takes) covers the ones that are lost or unreadable.
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
    """Act on a stored event once.

    Orders: the record the body carries (``connector.parse_event``, which may read the
    platform when the body is not enough) is applied through ``apply.apply_channel_order``;
    the stock it reserves or releases reaches every channel's outbox through inventory's
    signal. A body that cannot be read or applied falls back to reconciling the connection,
    so a bad webhook delays an order, never loses it. Products: the mapping follows the
    channel (``catalog_events.product_apply``), then the stock the body carried is recorded;
    a change older than one already applied to the same product is ``skipped`` with the
    reason in ``error``. Stock levels: the channel's quantity is remembered on the listing
    and a push is queued when it is not what the hub says. Privacy requests are held for the
    privacy engine; an uninstall shows on the connection's health. Returns the new state
    (None if the event is gone or was already handled)."""
    with workspace_scope(workspace_id):
        event = (InboxEvent.objects.select_related("connection")
                 .filter(id=inbox_id, state=InboxState.RECEIVED).first())
    if event is None:
        return None
    topic = event.topic
    record = _parse(event) if topic in PARSED_TOPICS else None  # network: outside transactions
    with workspace_scope(workspace_id), transaction.atomic():
        locked = (InboxEvent.objects.select_for_update()
                  .filter(id=inbox_id, state=InboxState.RECEIVED).first())
        if locked is None:
            return None  # another worker handled it meanwhile
        state, error = InboxState.PROCESSED, ""
        if topic in PRIVACY_TOPICS:
            state = InboxState.HELD
        elif topic in ORDER_TOPICS:
            error = _apply_order(event.connection, record)
        elif isinstance(record, ChannelProduct):
            stale = catalog_events.product_apply(connection=event.connection, product=record)
            if stale:
                # An older change arriving late: neither its variants nor its stock count.
                state, error = InboxState.SKIPPED, stale
            else:
                for level in record.levels:
                    _record_level(event.connection, level)
        elif topic == Topic.PRODUCT_DELETED:
            catalog_events.product_removed(connection=event.connection,
                                           resource_id=event.resource_id)
        elif isinstance(record, ChannelLevel):
            _record_level(event.connection, record)
        elif topic == Topic.APP_UNINSTALLED:
            # Every push will now fail as AuthFailed; say why on the connection's health.
            connection_record_sync(workspace_id=workspace_id, connection_id=event.connection_id,
                                   error="the app was uninstalled from the shop")
        InboxEvent.objects.filter(id=inbox_id).update(
            state=state, attempts=locked.attempts + 1, processed_at=timezone.now(),
            error=error[:500])
    log.info("webhook_processed", inbox_id=str(inbox_id), topic=topic, state=state.value,
             applied=isinstance(record, ChannelOrder) and not error)
    return state


# Topics whose body is read into a record before acting on it.
PARSED_TOPICS = ORDER_TOPICS | {Topic.INVENTORY_UPDATED, Topic.PRODUCT_UPDATED}
ParsedRecord = ChannelOrder | ChannelProduct | ChannelLevel | ChannelRefund | None


def _parse(event: InboxEvent) -> ParsedRecord:
    """The event's record, or None when it cannot be read (the caller then reconciles).
    A product event whose platform read failed in a way worth retrying raises instead."""
    connection = event.connection
    try:
        # The payload carries the buyer's address and email: read in an audited scope.
        with personal_data_access(actor=INBOX_ACTOR, workspace_id=connection.workspace_id,
                                  purpose=Purpose.ORDER_FULFILMENT):
            payload = json.loads(event.payload or "{}")
        verified = WebhookEvent(event_id=event.event_id, topic=Topic(event.topic),
                                platform_topic=event.platform_topic, payload=payload,
                                resource_id=event.resource_id)
        return connector_for(connection).parse_event(verified)
    except ChannelError as exc:
        if exc.retryable and event.topic == Topic.PRODUCT_UPDATED:
            # The platform was read for what the body lacks (a variable product's
            # variations, the shop's currency) and did not answer. Nothing reconciles the
            # catalog later, so the task is retried rather than the change dropped.
            raise
        _unreadable(event, exc)
    except (InvalidWebhook, LookupError, ValueError) as exc:
        _unreadable(event, exc)
    return None


def _unreadable(event: InboxEvent, exc: Exception) -> None:
    log.warning("webhook_unreadable", inbox_id=str(event.id), topic=event.topic,
                error=getattr(exc, "message", str(exc)))


def _apply_order(connection: Connection, record: ParsedRecord) -> str:
    """Apply the order the event carried, in the caller's transaction (a savepoint, so a
    refusal undoes only the order), or a refund to its stored order. Anything else (a refund
    whose order is not stored yet, an unreadable body, an order the hub refuses) reconciles
    the connection after commit instead; the refusal's message is returned for the event's
    record."""
    workspace_id, connection_id = connection.workspace_id, connection.id
    if isinstance(record, ChannelOrder):
        try:
            with transaction.atomic():
                apply_channel_order(connection=connection, order=record, actor=INBOX_ACTOR)
            return ""
        except StoresyncError as exc:
            log.warning("webhook_order_refused", connection_id=str(connection_id),
                        order=record.external_id, error=exc.message, field=exc.field)
            transaction.on_commit(lambda: _enqueue_reconcile(workspace_id, connection_id))
            return exc.message
    if isinstance(record, ChannelRefund) and _apply_refund(connection, record):
        return ""
    transaction.on_commit(lambda: _enqueue_reconcile(workspace_id, connection_id))
    return ""


def _apply_refund(connection: Connection, refund: ChannelRefund) -> bool:
    """A refund body names its order: restock or release from it (a savepoint). False when
    the order is not stored yet or the hub refuses the refund: reconciliation then brings
    the order with its refunds, and a refund applied here is not applied again."""
    try:
        with transaction.atomic():
            return apply_channel_refund(connection=connection, refund=refund,
                                        actor=INBOX_ACTOR) is not None
    except StoresyncError as exc:
        log.warning("webhook_refund_refused", connection_id=str(connection.id),
                    refund=refund.external_id, error=exc.message, field=exc.field)
        return False


def _record_level(connection: Connection, level: ChannelLevel) -> None:
    """Remember what the channel shows for this item; push when it is not what the hub says
    (a channel must never show more than the hub has available, nor keep showing less)."""
    listing = (Listing.objects.select_related("variant")
               .filter(connection_id=connection.id, inventory_item_id=level.inventory_item_id)
               .filter(Q(channel_location_id=level.location_id) | Q(channel_location_id=""))
               .order_by("-channel_location_id").first())
    if listing is None:
        return  # an item the hub does not list on this channel
    listing_record_channel_quantities(workspace_id=connection.workspace_id,
                                      quantities={listing.id: level.available}, pushed=False)
    if listing.status != ListingStatus.ACTIVE:
        return
    wanted = channel_quantities(connection=connection, listings=[listing])[listing.id]
    if wanted != level.available:
        queue_push(connection.workspace_id, listing)


def _enqueue_reconcile(workspace_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    from storesync.channels.tasks import reconcile_connection_orders

    reconcile_connection_orders(str(workspace_id), str(connection_id))
