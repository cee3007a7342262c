"""What quantity a channel should show for a listing, computed from the hub's levels.

``available`` of a level is ``on_hand - reserved - safety_buffer`` (never below zero). A listing
sells the sum of that over the hub locations feeding its channel location, minus the listing's
own buffer (or else the connection's), never below zero. On-hand stock is never pushed: units
already promised to orders or held back must not be sold twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from storesync.channels.models import Connection, LocationMapping
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level


class Sold(Protocol):
    """What the quantity of a listing depends on: a ``Listing`` or a ``PushTarget``."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def variant_id(self) -> uuid.UUID: ...
    @property
    def channel_location_id(self) -> str: ...
    @property
    def safety_buffer(self) -> int | None: ...


def _mapped_locations(connection: Connection) -> dict[str, set[uuid.UUID]] | None:
    """channel location id -> hub location ids; None when the connection maps nothing."""
    mapping: dict[str, set[uuid.UUID]] = defaultdict(set)
    for channel_location_id, location_id in LocationMapping.objects.filter(
            connection_id=connection.id).values_list("channel_location_id", "location_id"):
        mapping[channel_location_id].add(location_id)
    return dict(mapping) if mapping else None


def channel_quantities(*, connection: Connection,
                       listings: Iterable[Sold]) -> dict[uuid.UUID, int]:
    """listing id -> the quantity to show on the channel now (see the module docstring)."""
    listings = list(listings)
    with workspace_scope(connection.workspace_id):
        mapping = _mapped_locations(connection)
        levels = Level.objects.filter(
            variant_id__in={listing.variant_id for listing in listings},
            location__is_active=True,
        ).values_list("variant_id", "location_id", "on_hand", "reserved", "safety_buffer")
        free: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
        for variant_id, location_id, on_hand, reserved, buffer in levels:
            free[variant_id].append((location_id, max(on_hand - reserved - buffer, 0)))
    result = {}
    for listing in listings:
        feeding = None if mapping is None else mapping.get(listing.channel_location_id, set())
        total = sum(quantity for location_id, quantity in free[listing.variant_id]
                    if feeding is None or location_id in feeding)
        held = (listing.safety_buffer if listing.safety_buffer is not None
                else connection.safety_buffer)
        result[listing.id] = max(total - held, 0)
    return result
