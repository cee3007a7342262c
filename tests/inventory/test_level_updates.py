"""The conditional UPDATE ... RETURNING behind every stock change (ADR 0021)."""

from __future__ import annotations

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.inventory import services
from storesync.inventory.level_updates import (
    Guard,
    LevelAfter,
    LevelChange,
    level_update,
    level_updates,
)
from storesync.inventory.models import Level
from tests.conftest import ACTOR


def _received(stock, quantity: int) -> Level:
    ws, variants, main, _ = stock
    services.stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                           location_id=main.id, quantity=quantity, actor=ACTOR)
    with workspace_scope(ws):
        return Level.objects.get(variant=variants["KURTA-M"], location=main)


def _update(level: Level, *, workspace_id=None, **changes):
    with workspace_scope(level.workspace_id):
        return level_update(level_id=level.id, workspace_id=workspace_id or level.workspace_id,
                            now=timezone.now(), **changes)


def test_returns_the_values_after_the_change_and_bumps_the_version(stock):
    level = _received(stock, 5)
    after = _update(level, on_hand_delta=0, reserved_delta=3,
                    guard=Guard.available_at_least(3))
    assert (after.on_hand, after.reserved) == (5, 3)
    with workspace_scope(level.workspace_id):
        fresh = Level.objects.get(id=level.id)
    assert (fresh.on_hand, fresh.reserved, fresh.version) == (5, 3, level.version + 1)


def test_a_failed_guard_changes_nothing(stock):
    level = _received(stock, 5)
    with workspace_scope(level.workspace_id):
        Level.objects.filter(id=level.id).update(safety_buffer=2)
    assert _update(level, on_hand_delta=0, reserved_delta=4,
                   guard=Guard.available_at_least(4)) is None  # 5 - 2 = 3 free
    assert _update(level, on_hand_delta=0, reserved_delta=3,
                   guard=Guard.available_at_least(3)) is not None
    assert _update(level, on_hand_delta=-3, reserved_delta=0,
                   guard=Guard.on_hand_stays_covered(-3)) is None  # 2 left, 3 reserved
    assert _update(level, on_hand_delta=0, reserved_delta=-4,
                   guard=Guard.reserved_at_least(4)) is None
    with workspace_scope(level.workspace_id):
        fresh = Level.objects.get(id=level.id)
    assert (fresh.on_hand, fresh.reserved, fresh.version) == (5, 3, level.version + 1)


def test_another_workspaces_level_is_not_touched(stock):
    level = _received(stock, 5)
    assert _update(level, workspace_id=uuid.uuid4(), on_hand_delta=-5, reserved_delta=0,
                   guard=None) is None
    with workspace_scope(level.workspace_id):
        assert Level.objects.get(id=level.id).on_hand == 5


def test_several_levels_change_together_each_under_its_own_guard(stock):
    ws, variants, main, _ = stock
    medium = _received(stock, 5)
    services.stock_receive(workspace_id=ws, variant_id=variants["KURTA-L"].id,
                           location_id=main.id, quantity=1, actor=ACTOR)
    with workspace_scope(ws):
        large = Level.objects.get(variant=variants["KURTA-L"], location=main)
        with CaptureQueriesContext(connection) as ctx:
            results = level_updates([
                LevelChange(medium.id, 0, 3, Guard.available_at_least(3)),
                LevelChange(large.id, 0, 2, Guard.available_at_least(2)),  # only 1 there
                LevelChange(medium.id, -1, 0, Guard.on_hand_stays_covered(-1)),
            ], workspace_id=ws, now=timezone.now())
        fresh = {level.id: (level.on_hand, level.reserved) for level in Level.objects.all()}
    # In the order given: the third change sees the first one's reservation.
    assert results == [LevelAfter(5, 3), None, LevelAfter(4, 3)]
    assert fresh[medium.id] == (4, 3) and fresh[large.id] == (1, 0)
    # One round trip on PostgreSQL; SQLite runs the three UPDATEs one after the other.
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
