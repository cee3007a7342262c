"""Partial sale and release of a reservation, and returned stock."""

from __future__ import annotations

import pytest

from storesync.core.errors import Conflict
from storesync.core.tenancy import workspace_scope
from storesync.inventory import services
from storesync.inventory.models import Level, Movement, Reservation
from storesync.inventory.services import InsufficientStock, StockLine
from tests.conftest import ACTOR


@pytest.fixture
def held(stock):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=10,
                           actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="order:1", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 4)])
    return ws, m, main


def _state(ws, variant):
    with workspace_scope(ws):
        level = Level.objects.get(variant=variant)
        rows = sorted(Reservation.objects.filter(reference="order:1")
                      .values_list("state", "quantity"))
    return level.on_hand, level.reserved, rows


def test_partial_sale_and_release_split_the_reservation(held):
    ws, m, main = held
    services.reservation_fulfil_lines(workspace_id=ws, reference="order:1", actor=ACTOR,
                                      lines=[StockLine(m.id, main.id, 1)])
    assert _state(ws, m) == (9, 3, [("active", 3), ("fulfilled", 1)])
    services.reservation_release_lines(workspace_id=ws, reference="order:1", actor=ACTOR,
                                       lines=[StockLine(m.id, main.id, 2)])
    assert _state(ws, m) == (9, 1, [("active", 1), ("fulfilled", 1), ("released", 2)])
    services.reservation_fulfil_lines(workspace_id=ws, reference="order:1", actor=ACTOR,
                                      lines=[StockLine(m.id, main.id, 1)])
    assert _state(ws, m) == (8, 0, [("fulfilled", 1), ("fulfilled", 1), ("released", 2)])
    with workspace_scope(ws):
        kinds = list(Movement.objects.filter(reference="order:1").order_by("created_at", "id")
                     .values_list("kind", "on_hand_delta", "reserved_delta"))
    assert kinds == [("reserve", 0, 4), ("sale", -1, -1), ("release", 0, -2), ("sale", -1, -1)]


def test_settling_more_than_reserved_changes_nothing(held):
    ws, m, main = held
    with pytest.raises(Conflict) as err:
        services.reservation_fulfil_lines(workspace_id=ws, reference="order:1", actor=ACTOR,
                                          lines=[StockLine(m.id, main.id, 5)])
    assert err.value.field == "quantity"
    assert _state(ws, m) == (10, 4, [("active", 4)])


def test_returned_stock_is_back_on_hand_with_a_return_movement(held):
    ws, m, main = held
    movement = services.stock_return(workspace_id=ws, variant_id=m.id, location_id=main.id,
                                     quantity=2, reference="order:1", actor=ACTOR)
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after) == ("return", 2, 12)


def test_oversell_is_only_for_sales_that_already_happened(held):
    ws, m, main = held
    with pytest.raises(InsufficientStock):
        services.stock_reserve(workspace_id=ws, reference="order:2", actor=ACTOR,
                               lines=[StockLine(m.id, main.id, 7)])
    services.stock_reserve(workspace_id=ws, reference="order:2", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 7)], allow_oversell=True)
    with workspace_scope(ws):
        level = Level.objects.get(variant=m)
    assert (level.on_hand, level.reserved, level.available) == (10, 11, 0)
