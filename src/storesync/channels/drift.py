"""Stock drift: compare what each channel shows with what the hub would push, and correct it.

Pushes can be lost (a platform that answered OK and then failed to apply) and people edit
stock in the channel's own admin. Every few hours this reads the channel (``fetch_levels``,
one call per ``max_quantity_batch`` listings), remembers what it saw as the next push's
``expected``, and queues a push through the ordinary outbox for every listing that differs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from storesync.catalog.listings import listing_record_channel_quantities
from storesync.catalog.models import Listing, ListingStatus
from storesync.channels.connectors.base import ChannelError, Connector
from storesync.channels.models import Connection, OutboxItem
from storesync.channels.quantities import channel_quantities
from storesync.channels.services import connection_record_sync, connector_for
from storesync.core.tenancy import workspace_scope

MAX_LISTINGS = 50_000  # per run; bounded like every loop


@dataclass
class DriftReport:
    checked: int = 0
    drifted: int = 0


def drift_check(*, workspace_id: uuid.UUID, connection_id: uuid.UUID,
                connector: Connector | None = None) -> DriftReport:
    """Queue a push for every active listing whose channel quantity differs from the hub's."""
    with workspace_scope(workspace_id):
        connection = Connection.objects.get(id=connection_id)
        listings = list(Listing.objects.filter(connection_id=connection_id,
                                               status=ListingStatus.ACTIVE)
                        .select_related("variant").order_by("id")[:MAX_LISTINGS])
    connector = connector or connector_for(connection)
    report = DriftReport()
    size = max(int(connector.max_quantity_batch), 1)
    for start in range(0, len(listings), size):
        batch = listings[start:start + size]
        try:
            levels = connector.fetch_levels([listing.inventory_item_id for listing in batch])
        except ChannelError as exc:
            connection_record_sync(workspace_id=workspace_id, connection_id=connection_id,
                                   error=exc.message)
            raise
        seen = {(lv.inventory_item_id, lv.location_id): lv.available for lv in levels}
        wanted = channel_quantities(connection=connection, listings=batch)
        shown = {listing.id: seen[(listing.inventory_item_id, listing.channel_location_id)]
                 for listing in batch
                 if (listing.inventory_item_id, listing.channel_location_id) in seen}
        drifted = [listing for listing in batch if shown.get(listing.id) != wanted[listing.id]]
        _record(workspace_id, connection_id, shown, drifted)
        report.checked += len(batch)
        report.drifted += len(drifted)
    return report


def _record(workspace_id: uuid.UUID, connection_id: uuid.UUID, shown: dict[uuid.UUID, int],
            drifted: list[Listing]) -> None:
    with workspace_scope(workspace_id), transaction.atomic():
        listing_record_channel_quantities(workspace_id=workspace_id, quantities=shown,
                                          pushed=False)
        if not drifted:
            return
        now = timezone.now()
        OutboxItem.objects.bulk_create([
            OutboxItem(workspace_id=workspace_id, connection_id=connection_id,
                       listing_id=listing.id, next_attempt_at=now) for listing in drifted])

        def enqueue() -> None:
            from storesync.channels.tasks import enqueue_dispatch

            enqueue_dispatch(workspace_id, connection_id)

        transaction.on_commit(enqueue)
