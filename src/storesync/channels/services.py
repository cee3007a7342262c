"""Writes for channel connections: create (after checking the credentials), webhook
subscriptions, location mappings, listings with their first push, and the sync bookkeeping
the engine keeps on each connection (health, dispatch lease)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from storesync.catalog.listings import ListingInput, listing_create, listing_update
from storesync.catalog.models import Listing, ListingStatus
from storesync.channels.connectors.base import AuthFailed, ChannelError, Connector, Subscription
from storesync.channels.connectors.registry import build_connector
from storesync.channels.models import Connection, LocationMapping, OutboxItem, Platform
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Location
from storesync.security import audit


def _check_input(platform: str, name: str, webhook_secret: str) -> None:
    if platform not in Platform.values:
        raise ValidationError(f"platform is one of {', '.join(Platform.values)}", field="platform")
    if not name.strip():
        raise ValidationError("a connection needs a name", field="name")
    if len(webhook_secret) < 16:
        raise ValidationError("a webhook secret has at least 16 characters", field="webhook_secret")


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
    _check_input(platform, name, webhook_secret)
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


def connector_for(connection: Connection) -> Connector:
    """The platform's connector for this connection, with its decrypted credentials.

    The webhook secret is stored once, on the connection; it is handed to the connector here
    (as ``webhook_secret``) because some platforms take it when subscribing (WooCommerce signs
    deliveries with the secret given at registration), so the CLI, the web forms and the
    engine never have to repeat it inside the credentials."""
    credentials = connection_credentials(connection)
    if connection.webhook_secret:
        credentials["webhook_secret"] = connection.webhook_secret
    return build_connector(connection.platform, credentials=credentials)


def connection_add(*, workspace_id: uuid.UUID, platform: str, name: str,
                   credentials: dict[str, Any], webhook_secret: str, actor: audit.Actor,
                   verify: bool = True) -> Connection:
    """Check the credentials with the platform (unless ``verify`` is False), then store the
    connection. Refused credentials raise ValidationError naming ``credentials``; nothing is
    stored."""
    _check_input(platform, name, webhook_secret)  # before any network call
    if verify:
        try:
            connector = build_connector(platform, credentials=credentials)
        except LookupError:
            raise ValidationError(f"no connector for {platform} yet", field="platform") from None
        try:
            connector.verify_credentials()
        except AuthFailed as exc:
            raise ValidationError(f"the platform refused the credentials: {exc.message}",
                                  field="credentials") from None
        except ChannelError as exc:
            raise ValidationError(f"could not reach the platform: {exc.message}",
                                  field="credentials") from None
    return connection_create(workspace_id=workspace_id, platform=platform, name=name,
                             credentials=credentials, webhook_secret=webhook_secret,
                             actor=actor)


def location_mapping_add(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                         channel_location_id: str, location_id: uuid.UUID) -> LocationMapping:
    """Let a hub location's stock feed a channel location (several may feed one)."""
    if not channel_location_id.strip():
        raise ValidationError("the channel's location id", field="channel_location_id")
    with workspace_scope(workspace_id), transaction.atomic():
        if not Connection.objects.filter(id=connection_id).exists():
            raise NotFound("no such connection")
        if not Location.objects.filter(id=location_id).exists():
            raise NotFound("no such location")
        mapping, _ = LocationMapping.objects.get_or_create(
            workspace_id=workspace_id, connection_id=connection_id,
            channel_location_id=channel_location_id.strip(), location_id=location_id)
        return mapping


def dispatch_lease_take(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                        lease_s: float, token: str) -> bool:
    """Take (or renew, with the same token) the connection's dispatch lease. False: another
    dispatcher holds a lease that has not expired."""
    now = timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        return bool(Connection.objects.filter(
            Q(id=connection_id) & (Q(dispatch_lease_until__isnull=True)
                                   | Q(dispatch_lease_until__lt=now)
                                   | Q(dispatch_lease_token=token))
        ).update(dispatch_lease_until=now + timedelta(seconds=lease_s),
                 dispatch_lease_token=token))


def dispatch_lease_release(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                           token: str) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        Connection.objects.filter(id=connection_id, dispatch_lease_token=token).update(
            dispatch_lease_until=None, dispatch_lease_token="")


def connection_record_sync(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                           error: str = "", throttled_until: datetime | None = None) -> None:
    """Health bookkeeping after talking to the platform: success clears the last error."""
    now = timezone.now()
    changes: dict[str, object] = {"throttled_until": throttled_until}
    if error:
        changes.update(last_error=error[:500], last_error_at=now)
    elif throttled_until is None:
        changes.update(last_synced_at=now, last_error="")
    with workspace_scope(workspace_id), transaction.atomic():
        Connection.objects.filter(id=connection_id).update(**changes)


def queue_push(workspace_id: uuid.UUID, listing: Listing) -> None:
    """An outbox row for this listing, and a drain once the caller's transaction commits."""
    OutboxItem.objects.create(workspace_id=workspace_id, connection_id=listing.connection_id,
                              listing_id=listing.id, next_attempt_at=timezone.now())

    def enqueue() -> None:
        from storesync.channels.tasks import enqueue_dispatch

        enqueue_dispatch(workspace_id, listing.connection_id)

    transaction.on_commit(enqueue)


def listing_add(*, workspace_id: uuid.UUID, data: ListingInput, actor: audit.Actor) -> Listing:
    """List a variant on a connection and queue its first push, so the channel shows the
    hub's quantity right away (one transaction: no listing without its push)."""
    with workspace_scope(workspace_id), transaction.atomic():
        listing = listing_create(workspace_id=workspace_id, data=data, actor=actor)
        if listing.status == ListingStatus.ACTIVE:
            queue_push(workspace_id, listing)
    return listing


def listing_change(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | str,
                   listing_id: uuid.UUID | str, changes: dict[str, object],
                   actor: audit.Actor) -> Listing:
    """Change a listing of this connection (see ``catalog.listings.listing_update``); an
    active listing's quantity is pushed again, since its buffer or status may have changed."""
    cid = parse_id(connection_id, what="connection")
    lid = parse_id(listing_id, what="listing")
    with workspace_scope(workspace_id), transaction.atomic():
        if not Listing.objects.filter(id=lid, connection_id=cid).exists():
            raise NotFound("no such listing")
        listing = listing_update(workspace_id=workspace_id, listing_id=lid, changes=changes,
                                 actor=actor)
        audit.record(action=audit.Action.LISTING_CHANGED, actor=actor,
                     workspace_id=workspace_id, subject_type="listing", subject_id=lid,
                     detail={"connection_id": str(cid), "sku": listing.variant.sku,
                             "changes": {k: changes[k] for k in sorted(changes)}})
        if listing.status == ListingStatus.ACTIVE:
            queue_push(workspace_id, listing)
    return listing


def webhook_address(connection: Connection) -> str:
    """Where the platform should deliver this connection's webhooks."""
    from django.conf import settings

    return f"{settings.CONFIG.base_url}/webhooks/{connection.platform}/{connection.id}"


def connection_subscribe(*, workspace_id: uuid.UUID,
                         connection_id: uuid.UUID | str) -> list[Subscription]:
    """Register (or repair) the platform's webhook subscriptions for this connection, pointing
    at ``STORESYNC_BASE_URL``. Network only; raises ``ChannelError`` when the platform
    refuses."""
    cid = parse_id(connection_id, what="connection")
    with workspace_scope(workspace_id):
        connection = Connection.objects.filter(id=cid).first()
    if connection is None:
        raise NotFound("no such connection")
    return connector_for(connection).ensure_subscriptions(address=webhook_address(connection))
