"""Fulfillment orders per location and partial fulfillments."""

from __future__ import annotations

import pytest

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import services as inventory
from storesync.inventory.models import Movement, Reservation
from storesync.orders.fulfillment import (
    FulfillmentLineInput,
    TrackingInput,
    fulfillment_create,
)
from storesync.orders.models import Fulfillment, FulfillmentOrder, Order, OrderLine
from storesync.orders.services import order_cancel, order_fulfil
from tests.conftest import ACTOR
from tests.orders.conftest import level_of, paid_order

DELHIVERY = TrackingInput(company="Delhivery", number="DLV123456789",
                          url="https://www.delhivery.com/track/package/DLV123456789")


def _lines(ws, order):
    with workspace_scope(ws):
        return {line.sku: line for line in OrderLine.objects.filter(order=order)}


def _order(ws, order):
    with workspace_scope(ws):
        return Order.objects.get(id=order.id)


def test_order_opens_one_fulfillment_order_per_location_managed_by_kind(stock):
    ws, variants, main, _ = stock
    third_party = inventory.location_create(workspace_id=ws, name="Shiprocket WH", kind="3pl",
                                            actor=ACTOR)
    for location in (main, third_party):
        inventory.stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                                location_id=location.id, quantity=3, actor=ACTOR)
    local = paid_order(ws, ("KURTA-M", 1))
    outsourced = paid_order(ws, ("KURTA-M", 2), location_id=third_party.id)
    with workspace_scope(ws):
        mine = FulfillmentOrder.objects.get(order=local)
        theirs = FulfillmentOrder.objects.get(order=outsourced)
    assert (mine.location_id, mine.managed_by, mine.status) == (main.id, "merchant", "open")
    assert (theirs.location_id, theirs.managed_by) == (third_party.id, "third_party")


def test_partial_fulfillment_sells_only_the_shipped_units(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 3), ("KURTA-L", 1))
    lines = _lines(ws, order)
    shipment = fulfillment_create(workspace_id=ws, order_id=order.id, tracking=DELHIVERY,
                                  actor=ACTOR, lines=[
                                      FulfillmentLineInput(lines["KURTA-M"].id, 2)])
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (3, 1)  # two left the building, one still held
    assert level_of(ws, variants["KURTA-L"]).reserved == 1
    assert _order(ws, order).fulfillment_status == "partial"
    assert _lines(ws, order)["KURTA-M"].fulfilled_quantity == 2
    with workspace_scope(ws):
        assert FulfillmentOrder.objects.get(order=order).status == "in_progress"
        stored = Fulfillment.objects.get(id=shipment.id)
        sale = Movement.objects.get(kind="sale", level=level)
    assert (stored.number, stored.tracking_company, stored.tracking_number) == (
        1, "Delhivery", "DLV123456789")
    assert (sale.on_hand_delta, sale.reserved_delta) == (-2, -2)

    rest = fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                              fulfillment_order_id=shipment.fulfillment_order_id)
    assert rest.number == 2
    assert _order(ws, order).fulfillment_status == "fulfilled"
    assert (level_of(ws, variants["KURTA-M"]).on_hand, level_of(ws, variants["KURTA-L"]).on_hand) \
        == (2, 4)
    with workspace_scope(ws):
        assert FulfillmentOrder.objects.get(order=order).status == "closed"
        assert not Reservation.objects.filter(reference=f"order:{order.id}",
                                              state="active").exists()


def test_over_fulfilling_a_line_is_refused_and_changes_nothing(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    line = _lines(ws, order)["KURTA-M"]
    with pytest.raises(ValidationError) as err:
        fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                           lines=[FulfillmentLineInput(line.id, 3)])
    assert err.value.field == "lines.0.quantity"
    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[FulfillmentLineInput(line.id, 2)])
    with pytest.raises(ValidationError) as err:
        fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                           lines=[FulfillmentLineInput(line.id, 1)])
    assert err.value.field == "lines.0.quantity"
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (3, 0)


@pytest.mark.parametrize(("lines", "tracking", "field"), [
    ([], TrackingInput(), "lines"),
    ([("KURTA-M", 0)], TrackingInput(), "lines.0.quantity"),
    ([("KURTA-M", -1)], TrackingInput(), "lines.0.quantity"),
    ([("KURTA-M", 1), ("KURTA-M", 1)], TrackingInput(), "lines.1.line_id"),
    ([("KURTA-M", 1)], TrackingInput(url="javascript:alert(1)"), "tracking_url"),
])
def test_bad_fulfillments_name_the_field(shop, lines, tracking, field):
    ws, _, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    ids = _lines(ws, order)
    with pytest.raises(ValidationError) as err:
        fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR, tracking=tracking,
                           lines=[FulfillmentLineInput(ids[sku].id, q) for sku, q in lines])
    assert err.value.field == field


def test_another_orders_line_or_fulfillment_order_is_not_found(shop):
    ws, _, _ = shop
    first, second = paid_order(ws, ("KURTA-M", 1)), paid_order(ws, ("KURTA-L", 1))
    with workspace_scope(ws):
        theirs = FulfillmentOrder.objects.get(order=second)
    with pytest.raises(NotFound):
        fulfillment_create(workspace_id=ws, order_id=first.id, actor=ACTOR,
                           fulfillment_order_id=theirs.id)
    with pytest.raises(ValidationError) as err:
        fulfillment_create(workspace_id=ws, order_id=first.id, actor=ACTOR, lines=[
            FulfillmentLineInput(_lines(ws, second)["KURTA-L"].id, 1)])
    assert err.value.field == "lines.0.line_id"


def test_cancel_after_a_partial_shipment_is_refused(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[FulfillmentLineInput(_lines(ws, order)["KURTA-M"].id, 1)])
    with pytest.raises(Conflict) as err:
        order_cancel(workspace_id=ws, order_id=order.id, reason="customer", actor=ACTOR)
    assert "1 unit(s) of this order already shipped" in err.value.message
    assert level_of(ws, variants["KURTA-M"]).reserved == 1


def test_fulfil_everything_ships_what_is_left(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 3), ("KURTA-L", 2))
    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[FulfillmentLineInput(_lines(ws, order)["KURTA-M"].id, 1)])
    done = order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    assert done.fulfillment_status == "fulfilled"
    assert [(ln.quantity, ln.fulfilled_quantity) for ln in _lines(ws, order).values()] == [
        (3, 3), (2, 2)]
    assert (level_of(ws, variants["KURTA-M"]).on_hand, level_of(ws, variants["KURTA-M"]).reserved) \
        == (2, 0)
    again = order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    assert again.fulfillment_status == "fulfilled"
    assert level_of(ws, variants["KURTA-M"]).on_hand == 2
    with pytest.raises(Conflict):
        fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                           fulfillment_order_id=_fo(ws, order).id)


def _fo(ws, order):
    with workspace_scope(ws):
        return FulfillmentOrder.objects.get(order=order)
