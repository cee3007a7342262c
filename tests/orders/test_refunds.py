"""Refunds (money, removed and restocked units) and returns."""

from __future__ import annotations

import pytest

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Movement
from storesync.orders.fulfillment import FulfillmentLineInput, fulfillment_create
from storesync.orders.models import Order, OrderLine, Transaction
from storesync.orders.refunds import (
    RefundLineInput,
    ReturnLineInput,
    refund_create,
    return_cancel,
    return_receive,
    return_request,
)
from storesync.orders.services import order_cancel, order_fulfil
from tests.conftest import ACTOR
from tests.orders.conftest import level_of, paid_order


def _line(ws, order, sku="KURTA-M"):
    with workspace_scope(ws):
        return OrderLine.objects.get(order=order, sku=sku)


def _order(ws, order):
    with workspace_scope(ws):
        return Order.objects.get(id=order.id)


def test_refund_of_shipped_units_restocks_with_a_return_movement(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    assert level_of(ws, variants["KURTA-M"]).on_hand == 3
    refund = refund_create(workspace_id=ws, order_id=order.id, amount_minor=89900,
                           gateway="razorpay", actor=ACTOR,
                           lines=[RefundLineInput(_line(ws, order).id, 1, restock=True)])
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (4, 0)
    stored = _order(ws, order)
    assert (stored.financial_status, stored.refunded_minor) == ("partially_refunded", 89900)
    with workspace_scope(ws):
        back = Movement.objects.get(level=level, kind="return")
        money = Transaction.objects.get(refund=refund)
    assert (back.on_hand_delta, back.reference) == (1, f"order:{order.id}")
    assert (money.kind, money.amount_minor, money.card_last4) == ("refund", 89900, "")
    refund_create(workspace_id=ws, order_id=order.id, amount_minor=89900, actor=ACTOR,
                  lines=[RefundLineInput(_line(ws, order).id, 1, restock=False)])
    assert _order(ws, order).financial_status == "refunded"
    assert level_of(ws, variants["KURTA-M"]).on_hand == 4  # not restocked: damaged, say


def test_refund_of_unshipped_units_releases_them_and_completes_the_order(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 3))
    line = _line(ws, order)
    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[FulfillmentLineInput(line.id, 1)])
    refund_create(workspace_id=ws, order_id=order.id, amount_minor=2 * 89900, actor=ACTOR,
                  lines=[RefundLineInput(line.id, 2)])
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved, level.available) == (4, 0, 4)
    stored = _line(ws, order)
    assert (stored.removed_quantity, stored.refunded_quantity, stored.fulfillable_quantity) == (
        2, 2, 0)
    assert _order(ws, order).fulfillment_status == "fulfilled"  # nothing left to ship


def test_refunding_more_than_paid_or_a_line_twice_is_refused(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 1))
    line = _line(ws, order)
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=order.id, amount_minor=89901, actor=ACTOR)
    assert err.value.field == "amount"
    refund_create(workspace_id=ws, order_id=order.id, amount_minor=89900, actor=ACTOR,
                  lines=[RefundLineInput(line.id, 1)])
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=order.id, amount_minor=0, actor=ACTOR,
                      lines=[RefundLineInput(line.id, 1)])
    assert err.value.field == "lines.0.quantity"
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=order.id, amount_minor=1, actor=ACTOR)
    assert err.value.field == "amount"
    assert level_of(ws, variants["KURTA-M"]).reserved == 0
    unpaid = paid_order(ws, ("KURTA-L", 1), paid=False)
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=unpaid.id, amount_minor=100, actor=ACTOR)
    assert err.value.field == "amount"


@pytest.mark.parametrize(("amount", "lines", "field"), [
    (-1, [], "amount"),
    (0, [], "amount"),
    (0, [("KURTA-M", -2)], "lines.0.quantity"),
    (0, [("KURTA-M", 0)], "lines.0.quantity"),
    (0, [("KURTA-M", 1), ("KURTA-M", 1)], "lines.1.line_id"),
])
def test_bad_refunds_name_the_field_and_store_nothing(shop, amount, lines, field):
    ws, _, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    line = _line(ws, order)
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=order.id, amount_minor=amount, actor=ACTOR,
                      lines=[RefundLineInput(line.id, q) for _, q in lines])
    assert err.value.field == field
    stored = _order(ws, order)
    assert (stored.refunded_minor, stored.financial_status) == (0, "paid")


def test_refund_after_cancel_gives_money_back_without_touching_stock(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    order_cancel(workspace_id=ws, order_id=order.id, reason="customer", actor=ACTOR)
    refund_create(workspace_id=ws, order_id=order.id, amount_minor=2 * 89900, actor=ACTOR,
                  lines=[RefundLineInput(_line(ws, order).id, 2, restock=True)])
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (5, 0)
    assert _order(ws, order).financial_status == "refunded"


def test_return_requested_then_received_and_restocked(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    line = _line(ws, order)
    request = return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                             lines=[ReturnLineInput(line.id, 1, reason="size")])
    assert request.status == "requested"
    assert level_of(ws, variants["KURTA-M"]).on_hand == 3  # nothing back until it arrives
    with pytest.raises(ValidationError) as err:
        return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[ReturnLineInput(line.id, 2)])
    assert err.value.field == "lines.0.quantity"
    received = return_receive(workspace_id=ws, return_id=request.id, restock=True, actor=ACTOR)
    assert (received.status, received.restocked) == ("received", True)
    assert level_of(ws, variants["KURTA-M"]).on_hand == 4
    with pytest.raises(Conflict):
        return_receive(workspace_id=ws, return_id=request.id, restock=True, actor=ACTOR)
    assert level_of(ws, variants["KURTA-M"]).on_hand == 4
    # Refunding both units with restock puts back only the one not yet back on hand.
    refund_create(workspace_id=ws, order_id=order.id, amount_minor=2 * 89900, actor=ACTOR,
                  lines=[RefundLineInput(line.id, 2, restock=True)])
    assert level_of(ws, variants["KURTA-M"]).on_hand == 5
    assert _line(ws, order).restocked_quantity == 2


def test_return_received_without_restock_and_unshipped_units_cannot_return(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 2))
    line = _line(ws, order)
    with pytest.raises(ValidationError) as err:
        return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[ReturnLineInput(line.id, 1)])
    assert err.value.field == "lines.0.quantity"
    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       lines=[FulfillmentLineInput(line.id, 1)])
    request = return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                             lines=[ReturnLineInput(line.id, 1, reason="damaged")])
    return_receive(workspace_id=ws, return_id=request.id, restock=False, actor=ACTOR)
    assert level_of(ws, variants["KURTA-M"]).on_hand == 4


def test_other_orders_lines_are_refused(shop, other_workspace):
    ws, _, _ = shop
    mine, theirs = paid_order(ws, ("KURTA-M", 1)), paid_order(ws, ("KURTA-L", 1))
    with pytest.raises(ValidationError) as err:
        refund_create(workspace_id=ws, order_id=mine.id, amount_minor=0, actor=ACTOR,
                      lines=[RefundLineInput(_line(ws, theirs, "KURTA-L").id, 1)])
    assert err.value.field == "lines.0.line_id"
    with pytest.raises(NotFound):
        refund_create(workspace_id=other_workspace.workspace.id, order_id=mine.id,
                      amount_minor=1, actor=ACTOR)


def test_a_cancelled_return_frees_its_units_and_cannot_be_received(shop):
    ws, variants, _ = shop
    order = paid_order(ws, ("KURTA-M", 1))
    order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    line = _line(ws, order)
    first = return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                           lines=[ReturnLineInput(line.id, 1)])
    assert return_cancel(workspace_id=ws, return_id=first.id, actor=ACTOR).status == "cancelled"
    with pytest.raises(Conflict):
        return_receive(workspace_id=ws, return_id=first.id, restock=True, actor=ACTOR)
    second = return_request(workspace_id=ws, order_id=order.id, actor=ACTOR,
                            lines=[ReturnLineInput(line.id, 1)])
    return_receive(workspace_id=ws, return_id=second.id, restock=True, actor=ACTOR)
    with pytest.raises(Conflict):
        return_cancel(workspace_id=ws, return_id=second.id, actor=ACTOR)
    assert level_of(ws, variants["KURTA-M"]).on_hand == 5
