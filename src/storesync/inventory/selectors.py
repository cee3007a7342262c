"""Reads for stock."""

from __future__ import annotations

import uuid

from django.db.models import F, Value
from django.db.models.functions import Greatest

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import AVAILABLE, Level, Location, Movement


def levels_of_variant(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> list[Level]:
    with workspace_scope(workspace_id):
        return list(Level.objects.filter(variant_id=variant_id).select_related("location")
                    .order_by("location__name"))


def available_to_sell(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> int:
    """Sum over active locations of on hand - reserved - buffer (never below zero each)."""
    return sum(level.available for level in levels_of_variant(workspace_id=workspace_id,
                                                              variant_id=variant_id)
               if level.location.is_active)


def low_stock(*, workspace_id: uuid.UUID, limit: int = 100,
              location_id: uuid.UUID | None = None) -> list[Level]:
    """Levels of active locations whose *available* stock (on hand - reserved - buffer) is at
    or below their threshold, the largest shortfall (threshold - available) first.

    Each returned level carries ``shortfall``. Stock that is on the shelf but promised to
    orders does not count: a seller restocks what can still be sold.
    """
    with workspace_scope(workspace_id):
        queryset = (
            Level.objects.filter(low_stock_threshold__isnull=False, location__is_active=True)
            .annotate(free=Greatest(AVAILABLE, Value(0)))
            .filter(free__lte=F("low_stock_threshold"))
            .annotate(shortfall=F("low_stock_threshold") - F("free"))
        )
        if location_id is not None:
            queryset = queryset.filter(location_id=location_id)
        return list(queryset.select_related("variant", "location")
                    .order_by("-shortfall", "variant__sku", "id")[:limit])


def location_list(*, workspace_id: uuid.UUID, include_inactive: bool = True) -> list[Location]:
    """Every location by name (a workspace has a handful, not thousands)."""
    with workspace_scope(workspace_id):
        queryset = Location.objects.order_by("name")
        if not include_inactive:
            queryset = queryset.filter(is_active=True)
        return list(queryset[:1000])


def location_get(*, workspace_id: uuid.UUID, location_id: uuid.UUID | str) -> Location:
    lid = parse_id(location_id, what="location")
    with workspace_scope(workspace_id):
        location = Location.objects.filter(id=lid).first()
    if location is None:
        raise NotFound("no such location")
    return location


def level_get(*, workspace_id: uuid.UUID, level_id: uuid.UUID | str) -> Level:
    lid = parse_id(level_id, what="stock level")
    with workspace_scope(workspace_id):
        level = Level.objects.filter(id=lid).select_related("variant", "location").first()
    if level is None:
        raise NotFound("no such stock level")
    return level


def movements_of(*, workspace_id: uuid.UUID, level_id: uuid.UUID, limit: int = 100
                 ) -> list[Movement]:
    with workspace_scope(workspace_id):
        return list(Movement.objects.filter(level_id=level_id).order_by("-created_at")[:limit])
