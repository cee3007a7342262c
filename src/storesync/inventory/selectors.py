"""Reads for stock."""

from __future__ import annotations

import uuid

from django.db.models import F, Value
from django.db.models.functions import Greatest

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import AVAILABLE, Level, Location, Movement


def location_list(*, workspace_id: uuid.UUID, active_only: bool = False) -> list[Location]:
    """The workspace's locations by name (active first when all are listed)."""
    with workspace_scope(workspace_id):
        queryset = Location.objects.all()
        if active_only:
            queryset = queryset.filter(is_active=True)
        return list(queryset.order_by("-is_active", "name"))


def location_get(*, workspace_id: uuid.UUID, location_id: uuid.UUID | str) -> Location:
    """The location, or NotFound (also for another workspace's or a malformed id)."""
    lid = parse_id(location_id, what="location")
    with workspace_scope(workspace_id):
        location = Location.objects.filter(id=lid).first()
    if location is None:
        raise NotFound("no such location")
    return location


def levels_of_variant(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> list[Level]:
    with workspace_scope(workspace_id):
        return list(Level.objects.filter(variant_id=variant_id).select_related("location")
                    .order_by("location__name"))


def available_to_sell(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> int:
    """Sum over active locations of on hand - reserved - buffer (never below zero each)."""
    return sum(level.available for level in levels_of_variant(workspace_id=workspace_id,
                                                              variant_id=variant_id)
               if level.location.is_active)


def levels_of_products(*, workspace_id: uuid.UUID,
                       product_ids: list[uuid.UUID]) -> list[Level]:
    """Every level of these products' variants, with variant and location, by SKU then
    location name."""
    with workspace_scope(workspace_id):
        return list(Level.objects.filter(variant__product_id__in=product_ids)
                    .select_related("variant", "location")
                    .order_by("variant__sku", "location__name"))


def available_by_product(*, workspace_id: uuid.UUID,
                         product_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Available to sell per product: the sum over its variants and active locations."""
    totals = dict.fromkeys(product_ids, 0)
    for level in levels_of_products(workspace_id=workspace_id, product_ids=product_ids):
        if level.location.is_active:
            totals[level.variant.product_id] += level.available
    return totals


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


def movements_of(*, workspace_id: uuid.UUID, level_id: uuid.UUID, limit: int = 100
                 ) -> list[Movement]:
    with workspace_scope(workspace_id):
        return list(Movement.objects.filter(level_id=level_id).order_by("-created_at")[:limit])


def level_list(*, workspace_id: uuid.UUID, location_id: uuid.UUID | None = None,
               sku: str | None = None, cursor: str | None = None,
               limit: int = 50) -> Page[Level]:
    """Stock levels, newest first (keyset on the id); optionally at one location and/or whose
    SKU contains ``sku`` (case-insensitive)."""
    with workspace_scope(workspace_id):
        queryset = Level.objects.select_related("variant__product", "location")
        if location_id:
            queryset = queryset.filter(location_id=location_id)
        if sku:
            queryset = queryset.filter(variant__sku__icontains=sku.strip())
        return keyset_page(queryset, cursor=cursor, limit=limit)


def level_get(*, workspace_id: uuid.UUID, level_id: uuid.UUID | str) -> Level:
    """One level with its variant, product and location, or NotFound."""
    lid = parse_id(level_id, what="stock level")
    with workspace_scope(workspace_id):
        level = (Level.objects.filter(id=lid)
                 .select_related("variant__product", "location").first())
    if level is None:
        raise NotFound("no such stock level")
    return level


def movement_page(*, workspace_id: uuid.UUID, level_id: uuid.UUID, cursor: str | None = None,
                  limit: int = 50) -> Page[Movement]:
    """The ledger of one level, newest first, keyset-paginated."""
    with workspace_scope(workspace_id):
        return keyset_page(Movement.objects.filter(level_id=level_id), cursor=cursor,
                           limit=limit)


def movements_by_reference(*, workspace_id: uuid.UUID, reference: str,
                           limit: int = 200) -> list[Movement]:
    """Ledger rows sharing a reference (an order's reservations and sales), oldest first."""
    with workspace_scope(workspace_id):
        return list(Movement.objects.filter(reference=reference)
                    .select_related("level__variant", "level__location")
                    .order_by("created_at", "id")[:limit])
