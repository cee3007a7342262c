"""``/api/v1/orders``: create (stock is reserved), list with filters, read, cancel, fulfil
everything. Fulfillments, refunds and returns are in ``api.order_operations``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Status
from pydantic import BaseModel

from storesync.api.auth import Principal, require
from storesync.api.catalog import etag
from storesync.api.schemas import Amount, Strict
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get
from storesync.orders import selectors, services
from storesync.orders.models import Fulfillment, Order, OrderLine, Refund, Return
from storesync.security.access import Purpose, personal_data_access

router = Router(tags=["orders"])


class LineIn(Strict):
    sku: str = Field(max_length=64)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Amount | None = Field(None, max_length=20)
    discount: Amount = Field("0", max_length=20)


class AddressIn(Strict):
    name: str = Field(max_length=255)
    line1: str = Field(max_length=255)
    line2: str = Field("", max_length=255)
    city: str = Field(max_length=255)
    postcode: str = Field("", max_length=16)
    province_code: str = Field(max_length=8)
    country_code: str = Field("IN", min_length=2, max_length=2)
    phone: str = Field("", max_length=32)


class PaymentIn(Strict):
    kind: str = "sale"
    amount: Amount = Field(max_length=20)
    gateway: str = Field("", max_length=50)
    card_brand: str = Field("", max_length=20)
    card_last4: str = Field("", max_length=4)


class OrderIn(Strict):
    lines: list[LineIn] = Field(max_length=500)
    shipping_address: AddressIn
    email: str = Field("", max_length=254)
    location_id: uuid.UUID | None = None
    shipping: Amount = Field("0", max_length=20)
    buyer_gstin: str = Field("", max_length=15)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)


class CancelIn(Strict):
    reason: str = Field("other", max_length=100)


class LineOut(BaseModel):
    id: uuid.UUID
    external_id: str
    sku: str
    title: str
    quantity: int
    fulfilled_quantity: int
    fulfillable_quantity: int
    refunded_quantity: int
    unit_price: str
    discount: str
    hsn_code: str
    tax_rate: str
    taxable: str
    cgst: str
    sgst: str
    igst: str
    stock_reserved: bool


class TransactionOut(BaseModel):
    kind: str
    status: str
    gateway: str
    amount: str
    card_brand: str
    card_last4: str
    processed_at: datetime


class QuantityOut(BaseModel):
    line_id: uuid.UUID
    quantity: int


class FulfillmentOrderLineOut(QuantityOut):
    fulfillable_quantity: int


class FulfillmentOrderOut(BaseModel):
    id: uuid.UUID
    location_id: uuid.UUID
    managed_by: str = Field(description="merchant, or third_party for a 3PL location")
    status: str
    lines: list[FulfillmentOrderLineOut]


class FulfillmentOut(BaseModel):
    id: uuid.UUID
    name: str
    fulfillment_order_id: uuid.UUID
    status: str
    tracking_company: str
    tracking_number: str
    tracking_url: str
    created_at: datetime
    lines: list[QuantityOut]


class RefundLineOut(QuantityOut):
    restock: bool
    removed_quantity: int
    restocked_quantity: int


class RefundOut(BaseModel):
    id: uuid.UUID
    external_id: str
    amount: str
    note: str
    processed_at: datetime
    lines: list[RefundLineOut]


class ReturnLineOut(QuantityOut):
    reason: str


class ReturnOut(BaseModel):
    id: uuid.UUID
    status: str
    note: str
    restocked: bool
    requested_at: datetime
    received_at: datetime | None
    lines: list[ReturnLineOut]


class OrderOut(BaseModel):
    id: uuid.UUID
    number: int
    name: str
    source: str
    external_id: str
    currency: str
    financial_status: str
    fulfillment_status: str
    cancelled_at: datetime | None
    cancel_reason: str
    placed_at: datetime
    subtotal: str
    discount: str
    shipping: str
    tax: str
    total: str
    refunded: str
    ship_province_code: str
    ship_country_code: str
    needs_attention: bool
    attention_reasons: list[str]
    version: int
    lines: list[LineOut]
    transactions: list[TransactionOut]
    fulfillment_orders: list[FulfillmentOrderOut]
    fulfillments: list[FulfillmentOut]
    refunds: list[RefundOut]
    returns: list[ReturnOut]
    personal_data: str
    email: str | None = None
    shipping_address: dict[str, str | None] | None = None


# Responses are plain pydantic models, not ninja ``Schema``s: handlers return dicts, and
# ``Schema``'s root validator wraps every nested value in a Django-attribute resolver, which
# was half the CPU of listing 50 orders (bench/orderlist.py). Plain models validate the dicts
# in pydantic-core.
class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


def fulfillment_view(order: Order, shipment: Fulfillment) -> dict[str, Any]:
    return {"id": shipment.id, "name": f"{order.display_name}.{shipment.number}",
            "fulfillment_order_id": shipment.fulfillment_order_id, "status": shipment.status,
            "tracking_company": shipment.tracking_company,
            "tracking_number": shipment.tracking_number, "tracking_url": shipment.tracking_url,
            "created_at": shipment.created_at,
            "lines": [{"line_id": ln.line_id, "quantity": ln.quantity}
                      for ln in shipment.lines.all()]}


def refund_view(refund: Refund, currency: str) -> dict[str, Any]:
    return {"id": refund.id, "external_id": refund.external_id,
            "amount": from_minor(refund.amount_minor, currency), "note": refund.note,
            "processed_at": refund.processed_at,
            "lines": [{"line_id": ln.line_id, "quantity": ln.quantity, "restock": ln.restock,
                       "removed_quantity": ln.removed_quantity,
                       "restocked_quantity": ln.restocked_quantity}
                      for ln in refund.lines.all()]}


def return_view(request_: Return) -> dict[str, Any]:
    return {"id": request_.id, "status": request_.status, "note": request_.note,
            "restocked": request_.restocked, "requested_at": request_.requested_at,
            "received_at": request_.received_at,
            "lines": [{"line_id": ln.line_id, "quantity": ln.quantity, "reason": ln.reason}
                      for ln in request_.lines.all()]}


def _line_view(ln: OrderLine, money: Callable[[int], str]) -> dict[str, Any]:
    return {
        "id": ln.id, "external_id": ln.external_id, "sku": ln.sku, "title": ln.title,
        "quantity": ln.quantity, "fulfilled_quantity": ln.fulfilled_quantity,
        "fulfillable_quantity": ln.fulfillable_quantity,
        "refunded_quantity": ln.refunded_quantity,
        "unit_price": money(ln.unit_price_minor), "discount": money(ln.discount_minor),
        "hsn_code": ln.hsn_code, "tax_rate": f"{ln.tax_rate_bp / 100:g}",
        "taxable": money(ln.taxable_minor), "cgst": money(ln.cgst_minor),
        "sgst": money(ln.sgst_minor), "igst": money(ln.igst_minor),
        "stock_reserved": ln.reserves,
    }


def _order_view(order: Order) -> dict[str, Any]:
    cur = order.currency

    def money(value: int) -> str:
        return from_minor(value, cur)

    lines = sorted(order.lines.all(), key=lambda ln: ln.position)
    return {
        "id": order.id, "number": order.number, "name": order.display_name,
        "source": order.source, "external_id": order.external_id, "currency": cur,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status, "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason, "placed_at": order.placed_at,
        "subtotal": money(order.subtotal_minor), "discount": money(order.discount_minor),
        "shipping": money(order.shipping_minor), "tax": money(order.tax_minor),
        "total": money(order.total_minor), "refunded": money(order.refunded_minor),
        "version": order.version, "ship_province_code": order.ship_province_code,
        "ship_country_code": order.ship_country_code,
        "needs_attention": order.needs_attention, "attention_reasons": order.attention_reasons,
        "lines": [_line_view(ln, money) for ln in lines],
        "transactions": [{
            "kind": t.kind, "status": t.status, "gateway": t.gateway,
            "amount": money(t.amount_minor), "card_brand": t.card_brand,
            "card_last4": t.card_last4, "processed_at": t.processed_at,
        } for t in order.transactions.all()],
        "fulfillment_orders": [{
            "id": fo.id, "location_id": fo.location_id, "managed_by": fo.managed_by,
            "status": fo.status,
            "lines": [{"line_id": ln.id, "quantity": ln.quantity,
                       "fulfillable_quantity": ln.fulfillable_quantity}
                      for ln in lines if ln.location_id == fo.location_id],
        } for fo in order.fulfillment_orders.all()],
        "fulfillments": [fulfillment_view(order, f) for f in order.fulfillments.all()],
        "refunds": [refund_view(r, cur) for r in order.refunds.all()],
        "returns": [return_view(r) for r in order.returns.all()],
        "personal_data": "withheld",
    }


def order_views(orders: list[Order], who: Principal, purpose: Purpose) -> list[dict[str, Any]]:
    """The orders as the API shows them; the buyer's contact only to those allowed to see
    it, and every such read audited with ``purpose``."""
    out = []
    with personal_data_access(actor=who.actor, workspace_id=who.workspace_id, purpose=purpose):
        for order in orders:
            view = _order_view(order)
            if Perm.VIEW_PERSONAL_DATA in who.permissions:
                view.update(personal_data="included", email=order.email, shipping_address={
                    "name": order.ship_name, "line1": order.ship_line1,
                    "line2": order.ship_line2, "city": order.ship_city,
                    "postcode": order.ship_postcode, "phone": order.ship_phone,
                    "province_code": order.ship_province_code,
                    "country_code": order.ship_country_code})
            out.append(view)
    return out


@router.post("", response={201: OrderOut}, summary="Create an order; its stock is reserved")
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    cur = workspace_get(workspace_id=who.workspace_id).currency
    data = services.OrderInput(
        lines=[services.LineInput(
            sku=ln.sku, quantity=ln.quantity,
            unit_price_minor=None if ln.unit_price is None
            else to_minor(ln.unit_price, cur, field=f"lines.{i}.unit_price"),
            discount_minor=to_minor(ln.discount, cur, field=f"lines.{i}.discount"))
            for i, ln in enumerate(payload.lines)],
        shipping_address=services.AddressInput(**payload.shipping_address.model_dump()),
        email=payload.email, location_id=payload.location_id,
        shipping_minor=to_minor(payload.shipping, cur, field="shipping"),
        buyer_gstin=payload.buyer_gstin,
        payments=[services.PaymentInput(
            kind=p.kind, amount_minor=to_minor(p.amount, cur, field=f"payments.{i}.amount"),
            gateway=p.gateway, card_brand=p.card_brand, card_last4=p.card_last4)
            for i, p in enumerate(payload.payments)],
    )
    order = services.order_create(workspace_id=who.workspace_id, data=data, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return Status(201, order_views([fresh], who, Purpose.ORDER_FULFILMENT)[0])


@router.get("", response=OrderPage, summary="List orders (filter by channel, status, date)")
def list_orders(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                limit: int = Query(50, ge=1, le=200),
                source: str | None = Query(None, max_length=20),
                fulfillment_status: str | None = Query(None, max_length=12),
                financial_status: str | None = Query(None, max_length=20),
                placed_from: datetime | None = None, placed_to: datetime | None = None,
                attention: bool | None = Query(
                    None, description="true: only orders that need attention"),
                purpose: Purpose = Query(Purpose.ORDER_FULFILMENT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    page = selectors.order_list(
        workspace_id=who.workspace_id, cursor=cursor, limit=limit, source=source,
        fulfillment_status=fulfillment_status, financial_status=financial_status,
        placed_from=placed_from, placed_to=placed_to, attention=attention)
    return {"items": order_views(page.items, who, purpose), "next_cursor": page.next_cursor}


@router.get("/{order_id}", response=OrderOut, summary="Read an order (with an ETag)")
def get_order(request: HttpRequest, response: HttpResponse, order_id: str,
              purpose: Purpose = Query(Purpose.ORDER_FULFILMENT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    response["ETag"] = etag(order.version)
    return order_views([order], who, purpose)[0]


@router.post("/{order_id}/cancel", response=OrderOut, summary="Cancel; reserved stock returns")
def cancel_order(request: HttpRequest, order_id: str, payload: CancelIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    services.order_cancel(workspace_id=who.workspace_id, order_id=order.id,
                          reason=payload.reason, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return order_views([fresh], who, Purpose.ORDER_FULFILMENT)[0]


@router.post("/{order_id}/fulfil", response=OrderOut,
             summary="Ship everything still to ship (one fulfillment per fulfillment order)")
def fulfil_order(request: HttpRequest, order_id: str) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    services.order_fulfil(workspace_id=who.workspace_id, order_id=order.id, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return order_views([fresh], who, Purpose.ORDER_FULFILMENT)[0]
