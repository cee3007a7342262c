"""Reads for stock."""

from __future__ import annotations

import uuid

from django.db.models import F

from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import AVAILABLE, Level, Movement


def levels_of_variant(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> list[Level]:
    with workspace_scope(workspace_id):
        return list(Level.objects.filter(variant_id=variant_id).select_related("location")
                    .order_by("location__name"))


def available_to_sell(*, workspace_id: uuid.UUID, variant_id: uuid.UUID) -> int:
    """Sum over active locations of on hand - reserved - buffer (never below zero each)."""
    return sum(level.available for level in levels_of_variant(workspace_id=workspace_id,
                                                              variant_id=variant_id)
               if level.location.is_active)


def low_stock(*, workspace_id: uuid.UUID, limit: int = 100) -> list[Level]:
    """Levels at or below their threshold, emptiest first."""
    with workspace_scope(workspace_id):
        return list(
            Level.objects.filter(low_stock_threshold__isnull=False)
            .alias(free=AVAILABLE).filter(free__lte=F("low_stock_threshold"))
            .select_related("variant", "location").order_by("on_hand")[:limit]
        )


def movements_of(*, workspace_id: uuid.UUID, level_id: uuid.UUID, limit: int = 100
                 ) -> list[Movement]:
    with workspace_scope(workspace_id):
        return list(Movement.objects.filter(level_id=level_id).order_by("-created_at")[:limit])
