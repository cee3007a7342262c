from __future__ import annotations

import threading

import pytest
from django.db import connection

from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import selectors, services
from storesync.inventory.models import Level, Movement
from storesync.inventory.services import InsufficientStock, StockLine
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


def _level(ws, variant, location) -> Level:
    with workspace_scope(ws):
        return Level.objects.get(variant=variant, location=location)


def test_receive_reserve_fulfil_and_release_keep_the_ledger(stock):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=10,
                           actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="order:1", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 3)])
    level = _level(ws, m, main)
    assert (level.on_hand, level.reserved, level.available) == (10, 3, 7)
    assert services.reservation_fulfil(workspace_id=ws, reference="order:1", actor=ACTOR) == 1
    services.stock_reserve(workspace_id=ws, reference="order:2", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 2)])
    services.reservation_release(workspace_id=ws, reference="order:2", actor=ACTOR)
    level = _level(ws, m, main)
    assert (level.on_hand, level.reserved) == (7, 0)
    with workspace_scope(ws):
        kinds = list(Movement.objects.filter(level=level).order_by("created_at", "id")
                     .values_list("kind", "on_hand_after", "reserved_after"))
    assert kinds == [("receive", 10, 0), ("reserve", 10, 3), ("sale", 7, 0),
                     ("reserve", 7, 2), ("release", 7, 0)]
    # Closing twice does nothing the second time.
    assert services.reservation_fulfil(workspace_id=ws, reference="order:1", actor=ACTOR) == 0


def test_reservation_is_all_or_nothing(stock):
    ws, variants, main, _ = stock
    m, large = variants["KURTA-M"], variants["KURTA-L"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=5,
                           actor=ACTOR)
    services.stock_receive(workspace_id=ws, variant_id=large.id, location_id=main.id,
                           quantity=1, actor=ACTOR)
    with pytest.raises(InsufficientStock) as err:
        services.stock_reserve(workspace_id=ws, reference="order:9", actor=ACTOR, lines=[
            StockLine(m.id, main.id, 2), StockLine(large.id, main.id, 2)])
    assert err.value.field == "quantity" and "only 1 available" in err.value.message
    assert _level(ws, m, main).reserved == 0  # the first line was rolled back


def test_safety_buffer_is_never_sold(stock):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=5,
                           actor=ACTOR)
    with workspace_scope(ws):
        Level.objects.filter(variant=m).update(safety_buffer=2)
    services.stock_reserve(workspace_id=ws, reference="a", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 3)])
    with pytest.raises(InsufficientStock):
        services.stock_reserve(workspace_id=ws, reference="b", actor=ACTOR,
                               lines=[StockLine(m.id, main.id, 1)])
    assert selectors.available_to_sell(workspace_id=ws, variant_id=m.id) == 0


def test_adjust_cannot_go_below_reserved_or_zero_without_override(stock):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=4,
                           actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="o", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 3)])
    with pytest.raises(InsufficientStock):
        services.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=main.id, delta=-2,
                              reason="damaged", actor=ACTOR)
    with pytest.raises(ValidationError) as err:
        services.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=main.id, delta=-1,
                              reason=" ", actor=ACTOR)
    assert err.value.field == "reason"
    moved = services.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=main.id,
                                  delta=-6, reason="stock count found loss", actor=ACTOR,
                                  allow_negative=True)
    assert moved.on_hand_after == -2 and moved.negative_override
    event = AuditEvent.objects.get(action="stock.negative_override")
    assert event.detail["on_hand_after"] == -2


def test_transfer_moves_only_free_stock(stock):
    ws, variants, main, store = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=5,
                           actor=ACTOR)
    services.stock_reserve(workspace_id=ws, reference="o", actor=ACTOR,
                           lines=[StockLine(m.id, main.id, 2)])
    with pytest.raises(InsufficientStock):
        services.stock_transfer(workspace_id=ws, variant_id=m.id, from_location_id=main.id,
                                to_location_id=store.id, quantity=4, actor=ACTOR)
    out, into = services.stock_transfer(workspace_id=ws, variant_id=m.id,
                                        from_location_id=main.id, to_location_id=store.id,
                                        quantity=3, actor=ACTOR)
    assert (out.on_hand_after, into.on_hand_after) == (2, 3)
    assert out.reference == into.reference


def test_bad_input_is_refused(stock, other_workspace):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    for quantity in (0, -1):
        with pytest.raises(ValidationError):
            services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id,
                                   quantity=quantity, actor=ACTOR)
    with pytest.raises(ValidationError):
        services.stock_transfer(workspace_id=ws, variant_id=m.id, from_location_id=main.id,
                                to_location_id=main.id, quantity=1, actor=ACTOR)
    with pytest.raises(NotFound):  # another workspace's variant is not found
        services.stock_receive(workspace_id=other_workspace.workspace.id, variant_id=m.id,
                               location_id=main.id, quantity=1, actor=ACTOR)


def test_low_stock_list(stock):
    ws, variants, main, _ = stock
    m, large = variants["KURTA-M"], variants["KURTA-L"]
    for variant, quantity in ((m, 2), (large, 50)):
        services.stock_receive(workspace_id=ws, variant_id=variant.id, location_id=main.id,
                               quantity=quantity, actor=ACTOR)
    with workspace_scope(ws):
        Level.objects.update(low_stock_threshold=5)
    assert [lvl.variant.sku for lvl in selectors.low_stock(workspace_id=ws)] == ["KURTA-M"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_buyers_of_the_last_unit_exactly_one_wins(stock):
    ws, variants, main, _ = stock
    m = variants["KURTA-M"]
    services.stock_receive(workspace_id=ws, variant_id=m.id, location_id=main.id, quantity=1,
                           actor=ACTOR)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def buyer(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.stock_reserve(workspace_id=ws, reference=f"order:{n}", actor=ACTOR,
                                   lines=[StockLine(m.id, main.id, 1)])
            outcomes.append("won")
        except InsufficientStock:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    level = _level(ws, m, main)
    assert (level.on_hand, level.reserved) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_of_two_levels_in_either_order_never_deadlock(stock):
    # A reservation's UPDATEs are sent together (one round trip on PostgreSQL) and run in
    # primary-key order whatever the order of its lines, so two reservations of the same two
    # levels wait for each other instead of deadlocking; none oversells.
    ws, variants, main, _ = stock
    m, large = variants["KURTA-M"], variants["KURTA-L"]
    for variant in (m, large):
        services.stock_receive(workspace_id=ws, variant_id=variant.id, location_id=main.id,
                               quantity=40, actor=ACTOR)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def buyer(n: int) -> None:
        lines = [StockLine(m.id, main.id, 1), StockLine(large.id, main.id, 1)]
        try:
            barrier.wait(timeout=10)
            for i in range(10):
                services.stock_reserve(workspace_id=ws, reference=f"order:{n}-{i}",
                                       actor=ACTOR, lines=lines if (n + i) % 2 else lines[::-1])
                outcomes.append("won")
        except InsufficientStock:
            outcomes.append("lost")
        except BaseException as exc:  # a deadlock or any other failure fails the test
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(outcomes) == ["won"] * 40
    assert [(_level(ws, v, main).on_hand, _level(ws, v, main).reserved)
            for v in (m, large)] == [(40, 40), (40, 40)]
    with workspace_scope(ws):
        assert Movement.objects.filter(kind="reserve").count() == 80
