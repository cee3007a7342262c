"""The dispatcher: drains one connection's outbox into the platform.

One drain at a time per connection (a lease on the connection row, taken by a conditional
UPDATE, expiring by itself). A round takes the due listings (at most the connector's
``max_quantity_batch``), computes each quantity from the hub's levels *now*, and pushes them in
one call with compare-and-set: ``expected`` is what the channel showed last. A STALE answer
(the channel moved, say it sold a unit) re-reads the channel with ``fetch_levels``, recomputes
and pushes again. No database transaction is open during a network call; rows are marked done
only after their push succeeded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from storesync.catalog.listings import (
    PushTarget,
    listing_record_channel_quantities,
    listings_to_push,
)
from storesync.catalog.models import ListingStatus
from storesync.channels import fulfillments, outbox
from storesync.channels.connectors.base import (
    ChannelError,
    Connector,
    PushOutcome,
    QuantityUpdate,
    Throttled,
)
from storesync.channels.models import Connection
from storesync.channels.quantities import channel_quantities
from storesync.channels.services import (
    connection_record_sync,
    connector_for,
    dispatch_lease_release,
    dispatch_lease_take,
)
from storesync.core.logs import get_logger
from storesync.core.tenancy import workspace_scope

log = get_logger(__name__)

LEASE_S = 120.0
MAX_ROUNDS = 50  # per drain; what is left is picked up by the next drain
STALE_RETRIES = 2


@dataclass
class DrainReport:
    """What one drain did; ``retry_at`` is when the connection next needs a drain, if ever."""

    skipped: bool = False
    pushed: int = 0
    stale: int = 0
    failed: int = 0
    dead: int = 0
    throttled_until: datetime | None = None
    retry_at: datetime | None = None
    errors: list[str] = field(default_factory=list)


def drain_connection(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                     connector: Connector | None = None) -> DrainReport:
    """Push every due listing of this connection; see the module docstring. Returns
    ``skipped`` when another dispatcher holds the connection."""
    with workspace_scope(workspace_id):
        connection = Connection.objects.filter(id=connection_id).first()
    if connection is None:
        return DrainReport()  # deleted: its outbox went with it
    token = uuid.uuid4().hex
    if not dispatch_lease_take(workspace_id=workspace_id, connection_id=connection_id,
                               lease_s=LEASE_S, token=token):
        return DrainReport(skipped=True)
    report = DrainReport()
    try:
        if connector is None:
            try:
                connector = connector_for(connection)
            except LookupError as exc:  # a platform whose package is not installed
                connection_record_sync(workspace_id=workspace_id, connection_id=connection_id,
                                       error=str(exc))
                report.errors.append(str(exc))
                return report
        renewed_at = time.monotonic()
        for _ in range(MAX_ROUNDS):
            if connection.throttled_until and connection.throttled_until > timezone.now():
                report.throttled_until = connection.throttled_until
                break
            due = outbox.due_listings(connection=connection, limit=connector.max_quantity_batch)
            if not due:
                break
            # Renewed when a quarter of it has gone, not every round: each renewal is a write
            # transaction, and on SQLite every write waits for the other drains' writes.
            if time.monotonic() - renewed_at > LEASE_S / 4:
                dispatch_lease_take(workspace_id=workspace_id, connection_id=connection_id,
                                    lease_s=LEASE_S, token=token)
                renewed_at = time.monotonic()
            _push_round(connection, connector, due, report)
            if report.throttled_until:
                break
        if not report.throttled_until:
            _push_fulfillments(connection, connector, report)
    finally:
        dispatch_lease_release(workspace_id=workspace_id, connection_id=connection_id,
                               token=token)
    report.retry_at = report.throttled_until or outbox.next_due_at(connection=connection)
    return report


def _push_fulfillments(connection: Connection, connector: Connector,
                       report: DrainReport) -> None:
    pushed, failed, dead, errors, throttled = fulfillments.push_due_fulfillments(
        connection, connector)
    report.pushed += pushed
    report.failed += failed
    report.dead += dead
    report.errors += errors
    if errors:
        connection_record_sync(workspace_id=connection.workspace_id,
                               connection_id=connection.id, error=errors[-1])
    elif pushed:
        connection_record_sync(workspace_id=connection.workspace_id,
                               connection_id=connection.id)
    if throttled:
        connection.throttled_until = report.throttled_until = throttled
        connection_record_sync(workspace_id=connection.workspace_id,
                               connection_id=connection.id, throttled_until=throttled)


def _push_round(connection: Connection, connector: Connector,
                due: Sequence[outbox.DueListing], report: DrainReport) -> None:
    workspace_id = connection.workspace_id
    listings = listings_to_push(workspace_id=workspace_id,
                                listing_ids=[group.listing_id for group in due])
    unlisted = [group for group in due if group.listing_id in listings
                and listings[group.listing_id].status != ListingStatus.ACTIVE]
    if unlisted:  # unlisted since the change: nothing to tell the channel
        outbox.outbox_mark_done(workspace_id=workspace_id,
                                row_ids=[r for group in unlisted for r in group.row_ids])
    groups = {group.listing_id: group for group in due if group.listing_id in listings
              and listings[group.listing_id].status == ListingStatus.ACTIVE}
    if not groups:
        return
    pending = dict(groups)
    try:
        unknown = [listings[lid] for lid in pending if listings[lid].last_channel_quantity is None]
        if unknown:
            _refresh(connection, connector, unknown)
        for attempt in range(STALE_RETRIES + 1):
            stale = _push(connection, connector, [listings[lid] for lid in pending],
                          pending, report, last_try=attempt == STALE_RETRIES)
            if not stale:
                break
            report.stale += len(stale)
            pending = {listing.id: groups[listing.id] for listing in stale}
            _catch_up_orders(connection, connector)
            _refresh(connection, connector, stale)
    except Throttled as exc:
        until = timezone.now() + timedelta(seconds=max(exc.retry_after_s, 0.0))
        connection.throttled_until = until
        report.throttled_until = until
        connection_record_sync(workspace_id=workspace_id, connection_id=connection.id,
                               throttled_until=until)
    except ChannelError as exc:
        _fail(connection, list(pending.values()), exc.message, exc.retryable, report)


def _catch_up_orders(connection: Connection, connector: Connector) -> None:
    """The channel moved under us, most often because it sold units whose webhook has not
    arrived yet. Pushing the hub's number now would put those units back on sale (the
    re-inflation race), so the hub first fetches the channel's changed orders; the quantity
    recomputed after that counts the sale. A run already under way for this connection, or a
    failure here, leaves the push as it was: that run queues its own push."""
    from storesync.channels.reconcile import reconcile_orders

    try:
        reconcile_orders(workspace_id=connection.workspace_id, connection_id=connection.id,
                         connector=connector, max_pages=5)
    except ChannelError as exc:
        log.warning("stale_push_catch_up_failed", connection_id=str(connection.id),
                    error=exc.message)


def _refresh(connection: Connection, connector: Connector,
             listings: Sequence[PushTarget]) -> None:
    """Read what the channel shows now for these listings and remember it as ``expected``."""
    levels = connector.fetch_levels([listing.inventory_item_id for listing in listings])
    seen = {(level.inventory_item_id, level.location_id): level.available for level in levels}
    quantities = {}
    for listing in listings:
        quantity = seen.get((listing.inventory_item_id, listing.channel_location_id))
        if quantity is not None:
            quantities[listing.id] = quantity
            listing.last_channel_quantity = quantity
    listing_record_channel_quantities(workspace_id=connection.workspace_id,
                                      quantities=quantities, pushed=False)


def _push(connection: Connection, connector: Connector, listings: Sequence[PushTarget],
          groups: dict[uuid.UUID, outbox.DueListing], report: DrainReport, *,
          last_try: bool) -> list[PushTarget]:
    """One push call. Settles OK and FAILED results; returns the listings that came back
    STALE (on the last try they count as a retryable failure instead)."""
    quantities = channel_quantities(connection=connection, listings=listings)
    by_key = {(listing.inventory_item_id, listing.channel_location_id): listing
              for listing in listings}
    updates = [QuantityUpdate(inventory_item_id=listing.inventory_item_id,
                              location_id=listing.channel_location_id,
                              quantity=quantities[listing.id],
                              expected=listing.last_channel_quantity,
                              sku=listing.sku)
               for listing in listings]
    results = connector.push_quantities(updates)
    done: dict[uuid.UUID, int] = {}
    stale: list[PushTarget] = []
    failures: list[tuple[outbox.DueListing, str, bool]] = []
    answered: set[uuid.UUID] = set()
    for result in results:
        listing = by_key[(result.update.inventory_item_id, result.update.location_id)]
        answered.add(listing.id)
        if result.outcome == PushOutcome.OK:
            done[listing.id] = (result.channel_quantity if result.channel_quantity is not None
                                else result.update.quantity)
        elif result.outcome == PushOutcome.STALE and not last_try:
            if result.channel_quantity is not None:  # what the platform says it has instead
                listing.last_channel_quantity = result.channel_quantity
            stale.append(listing)
        else:
            failures.append((groups[listing.id], result.error or f"push {result.outcome.value}",
                             result.retryable or result.outcome == PushOutcome.STALE))
    failures += [(groups[listing.id], "the platform returned no result for this update", True)
                 for listing in listings if listing.id not in answered]
    # Successes first: the health then ends on the error if any part of the call failed.
    if done:
        # One transaction for the bookkeeping of a successful call (one write lock on
        # SQLite, one commit): what the channel shows, the rows settled, the health.
        with transaction.atomic():
            listing_record_channel_quantities(workspace_id=connection.workspace_id,
                                              quantities=done, pushed=True)
            outbox.outbox_mark_done(workspace_id=connection.workspace_id,
                                    row_ids=[r for lid in done for r in groups[lid].row_ids],
                                    pushed_listing_ids=list(done))
            connection_record_sync(workspace_id=connection.workspace_id,
                                   connection_id=connection.id)
        report.pushed += len(done)
    for group, error, retryable in failures:
        _fail(connection, [group], error, retryable, report)
    return stale


def _fail(connection: Connection, groups: Sequence[outbox.DueListing], error: str,
          retryable: bool, report: DrainReport) -> None:
    outbox.outbox_mark_failed(workspace_id=connection.workspace_id, groups=groups,
                              error=error, retryable=retryable)
    dead = sum(1 for g in groups if not retryable or g.attempts + 1 >= outbox.MAX_ATTEMPTS)
    report.failed += len(groups) - dead
    report.dead += dead
    report.errors.append(error)
    connection_record_sync(workspace_id=connection.workspace_id, connection_id=connection.id,
                           error=error)
    log.warning("channel_push_failed", connection_id=str(connection.id), error=error,
                listings=len(groups), retryable=retryable)
