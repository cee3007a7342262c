"""``/api/v1/orders/{order_id}/...``: fulfillment orders, fulfillments (partial, with
tracking), refunds and returns. Each create answers with what it created; the order itself
(statuses, quantities) is read with ``GET /orders/{order_id}``."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Status

from storesync.api.auth import require
from storesync.api.orders import (
    FulfillmentOrderOut,
    FulfillmentOut,
    RefundOut,
    ReturnOut,
    fulfillment_view,
    order_views,
    refund_view,
    return_view,
)
from storesync.api.schemas import Amount, Strict
from storesync.core.money import to_minor
from storesync.core.permissions import Perm
from storesync.orders import fulfillment, refunds, selectors
from storesync.security.access import Purpose

router = Router(tags=["orders"])


class FulfillLineIn(Strict):
    line_id: uuid.UUID
    quantity: int = Field(gt=0, le=100_000)


class FulfillmentIn(Strict):
    fulfillment_order_id: uuid.UUID | None = None
    lines: list[FulfillLineIn] | None = Field(
        None, max_length=500, description="omit to ship everything left in the fulfillment order")
    tracking_company: str = Field("", max_length=100)
    tracking_number: str = Field("", max_length=100)
    tracking_url: str = Field("", max_length=500)


class RefundLineIn(Strict):
    line_id: uuid.UUID
    quantity: int = Field(gt=0, le=100_000)
    restock: bool = False


class RefundIn(Strict):
    amount: Amount = Field("0", max_length=20)
    lines: list[RefundLineIn] = Field(default_factory=list, max_length=500)
    note: str = Field("", max_length=255)
    gateway: str = Field("", max_length=50)


class ReturnLineIn(Strict):
    line_id: uuid.UUID
    quantity: int = Field(gt=0, le=100_000)
    reason: str = Field("", max_length=100)


class ReturnIn(Strict):
    lines: list[ReturnLineIn] = Field(max_length=500)
    note: str = Field("", max_length=255)


class ReceiveIn(Strict):
    restock: bool = True


@router.get("/{order_id}/fulfillment-orders", response=list[FulfillmentOrderOut],
            summary="What each location has to ship for this order")
def list_fulfillment_orders(request: HttpRequest, order_id: str) -> Any:
    who = require(request, Perm.VIEW_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    return order_views([order], who, Purpose.ORDER_FULFILMENT)[0]["fulfillment_orders"]


@router.post("/{order_id}/fulfillments", response={201: FulfillmentOut},
             summary="Ship some or all units of one fulfillment order, with tracking")
def create_fulfillment(request: HttpRequest, order_id: str, payload: FulfillmentIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    shipment = fulfillment.fulfillment_create(
        workspace_id=who.workspace_id, order_id=order.id,
        fulfillment_order_id=payload.fulfillment_order_id,
        lines=None if payload.lines is None else [
            fulfillment.FulfillmentLineInput(ln.line_id, ln.quantity) for ln in payload.lines],
        tracking=fulfillment.TrackingInput(company=payload.tracking_company,
                                           number=payload.tracking_number,
                                           url=payload.tracking_url),
        actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return Status(201, fulfillment_view(fresh, next(
        f for f in fresh.fulfillments.all() if f.id == shipment.id)))


@router.post("/{order_id}/refunds", response={201: RefundOut},
             summary="Refund money and/or units (unshipped units are released, shipped units "
                     "restocked if asked)")
def create_refund(request: HttpRequest, order_id: str, payload: RefundIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    refund = refunds.refund_create(
        workspace_id=who.workspace_id, order_id=order.id,
        amount_minor=to_minor(payload.amount, order.currency, field="amount"),
        lines=[refunds.RefundLineInput(ln.line_id, ln.quantity, ln.restock)
               for ln in payload.lines],
        note=payload.note, gateway=payload.gateway, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return Status(201, refund_view(next(r for r in fresh.refunds.all() if r.id == refund.id),
                                   fresh.currency))


@router.post("/{order_id}/returns", response={201: ReturnOut},
             summary="Open a return for shipped units")
def create_return(request: HttpRequest, order_id: str, payload: ReturnIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    opened = refunds.return_request(
        workspace_id=who.workspace_id, order_id=order.id, note=payload.note, actor=who.actor,
        lines=[refunds.ReturnLineInput(ln.line_id, ln.quantity, ln.reason)
               for ln in payload.lines])
    return Status(201, return_view(selectors.return_get(
        workspace_id=who.workspace_id, order_id=order.id, return_id=opened.id)))


@router.post("/{order_id}/returns/{return_id}/receive", response=ReturnOut,
             summary="The return arrived: restock its units (or not)")
def receive_return(request: HttpRequest, order_id: str, return_id: str,
                   payload: ReceiveIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    found = selectors.return_get(workspace_id=who.workspace_id, order_id=order_id,
                                 return_id=return_id)
    refunds.return_receive(workspace_id=who.workspace_id, return_id=found.id,
                           restock=payload.restock, actor=who.actor)
    return return_view(selectors.return_get(workspace_id=who.workspace_id,
                                            order_id=found.order_id, return_id=found.id))


@router.post("/{order_id}/returns/{return_id}/cancel", response=ReturnOut,
             summary="Withdraw a requested return")
def cancel_return(request: HttpRequest, order_id: str, return_id: str) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    found = selectors.return_get(workspace_id=who.workspace_id, order_id=order_id,
                                 return_id=return_id)
    refunds.return_cancel(workspace_id=who.workspace_id, return_id=found.id, actor=who.actor)
    return return_view(selectors.return_get(workspace_id=who.workspace_id,
                                            order_id=found.order_id, return_id=found.id))
