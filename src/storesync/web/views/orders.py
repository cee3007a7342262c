"""Orders: a filtered list, exact lookup by number, the order page, cancel and fulfil.

The buyer's contact and address stay masked (``•••••``) until a member who may see personal
data reveals them with a stated purpose: ``order_reveal`` is a POST, decrypts through
``orders.selectors.order_reveal`` (one ``personal_data.read`` audit event, exactly like the
customers page) and answers ``no-store``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from storesync.core.errors import NotFound, StoresyncError, ValidationError
from storesync.core.permissions import Perm
from storesync.orders import selectors, services
from storesync.orders.models import FinancialStatus, FulfillmentStatus, Order
from storesync.web.localtime import business_timezone
from storesync.web.membership import member_of, member_required
from storesync.web.views.customers import PURPOSES, RevealForm

PAGE_SIZE = 50
CANCEL_REASONS = [("customer", "Customer changed their mind"), ("inventory", "Out of stock"),
                  ("fraud", "Suspected fraud"), ("declined", "Payment declined"),
                  ("other", "Other")]


class OrderFilter(forms.Form):
    """The list's filters, all optional (GET, so a filtered list can be bookmarked)."""

    number = forms.IntegerField(label="Order number", required=False, min_value=1,
                                max_value=2**31 - 1)
    source = forms.CharField(label="Channel", required=False, max_length=20)
    financial_status = forms.ChoiceField(label="Payment", required=False, choices=[
        ("", "Any"), *FinancialStatus.choices])
    fulfillment_status = forms.ChoiceField(label="Fulfilment", required=False, choices=[
        ("", "Any"), *FulfillmentStatus.choices])
    state = forms.ChoiceField(label="State", required=False, choices=[
        ("", "Any"), ("open", "Open"), ("cancelled", "Cancelled")])
    placed_from = forms.DateField(label="From", required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    placed_to = forms.DateField(label="To (inclusive)", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("placed_from"), data.get("placed_to")
        if start and end and end < start:
            self.add_error("placed_to", "The end date is before the start date.")
        return data


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=CANCEL_REASONS)


def _list_filters(form: OrderFilter, request: HttpRequest) -> dict[str, Any]:
    """Selector keyword arguments from a valid filter form; dates are whole business days."""
    data = form.cleaned_data
    tz = business_timezone(member_of(request).workspace)
    state = data.get("state")

    def day_start(day: Any) -> datetime | None:
        return datetime.combine(day, time.min, tzinfo=tz) if day else None

    return {"number": data.get("number"), "source": data.get("source") or None,
            "financial_status": data.get("financial_status") or None,
            "fulfillment_status": data.get("fulfillment_status") or None,
            "cancelled": {"open": False, "cancelled": True}.get(state or ""),
            "placed_from": day_start(data.get("placed_from")),
            "placed_to": day_start(data["placed_to"] + timedelta(days=1))
            if data.get("placed_to") else None}


@require_GET
@member_required(Perm.VIEW_ORDERS)
def order_list(request: HttpRequest) -> HttpResponse:
    """Newest first with filters; an exact order number that exists opens that order."""
    member = member_of(request)
    ws = member.workspace.id
    form = OrderFilter(request.GET or None)
    orders: list[Order] = []
    next_cursor = None
    if not form.is_bound or form.is_valid():
        filters = _list_filters(form, request) if form.is_bound else {}
        try:
            # The list shows each order's line count, none of its other relations.
            page = selectors.order_list(workspace_id=ws, limit=PAGE_SIZE,
                                        cursor=request.GET.get("cursor") or None,
                                        relations=(), count_lines=True, **filters)
        except ValidationError:
            raise Http404("That page of orders does not exist.") from None
        if filters.get("number") and len(page.items) == 1:
            return redirect("web:order", order_id=page.items[0].id)
        orders, next_cursor = page.items, page.next_cursor
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(request, "storesync/orders/list.html", {
        "form": form, "orders": orders, "next_cursor": next_cursor,
        "query": query.urlencode(), "filtered": any(v for k, v in request.GET.items()
                                                     if k != "cursor"),
        "paged": bool(request.GET.get("cursor")), "currency": member.workspace.currency,
        "sources": selectors.order_sources(workspace_id=ws),
        # The CSV download covers the dates filtered on (its other filters do not apply).
        **{f"export_{end}": (form.cleaned_data.get(f"placed_{end}") or "")
           if form.is_bound and not form.errors else "" for end in ("from", "to")},
    }, status=400 if form.errors else 200)


def _order(request: HttpRequest, order_id: uuid.UUID) -> Order:
    try:
        return selectors.order_get(workspace_id=member_of(request).workspace.id,
                                   order_id=order_id)
    except NotFound:
        raise Http404("There is no such order in this workspace.") from None


def _detail(request: HttpRequest, order: Order, *, reveal: RevealForm | None = None,
            revealed: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    reveal = reveal or RevealForm()
    purpose = reveal.cleaned_data.get("purpose") if revealed is not None else None
    lines = sorted(order.lines.all(), key=lambda line: line.position)
    response = render(request, "storesync/orders/detail.html", {
        "order": order, "lines": lines, "transactions": list(order.transactions.all()),
        "timeline": selectors.order_timeline(order=order), "currency": order.currency,
        "gst": {"cgst": sum(x.cgst_minor for x in lines), "sgst": sum(x.sgst_minor for x in lines),
                "igst": sum(x.igst_minor for x in lines),
                "taxable": sum(x.taxable_minor for x in lines)},
        "form": reveal, "revealed": revealed, "cancel_form": CancelForm(),
        "purpose_label": dict(PURPOSES).get(purpose or ""),
    }, status=status)
    if revealed is not None:
        response["Cache-Control"] = "no-store"
    return response


@require_GET
@member_required(Perm.VIEW_ORDERS, personal_data=True)
def order_detail(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    return _detail(request, _order(request, order_id))


@require_POST
@member_required(Perm.VIEW_PERSONAL_DATA, personal_data=True)
def order_reveal(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """Decrypt the buyer's contact and address for the stated purpose (audited, not kept)."""
    member = member_of(request)
    if not member.can(Perm.VIEW_ORDERS):  # checked before the lookup: nothing leaks
        raise PermissionDenied(f"Your role ({member.membership.role}) lacks the "
                               "“view_orders” permission.")
    order = _order(request, order_id)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return _detail(request, order, reveal=form, status=400)
    revealed = selectors.order_reveal(order=order, actor=member.actor,
                                      purpose=form.cleaned_data["purpose"])
    return _detail(request, order, reveal=form, revealed=revealed)


@require_POST
@member_required(Perm.MANAGE_ORDERS)
def order_cancel(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """Cancel an unfulfilled order; its reserved stock becomes available again."""
    member = member_of(request)
    order = _order(request, order_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose why the order is cancelled.")
        return redirect("web:order", order_id=order.id)
    try:
        services.order_cancel(workspace_id=member.workspace.id, order_id=order.id,
                              reason=form.cleaned_data["reason"], actor=member.actor)
    except StoresyncError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Order #{order.number} cancelled; its stock is released.")
    return redirect("web:order", order_id=order.id)


@require_POST
@member_required(Perm.MANAGE_ORDERS)
def order_fulfil(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    """Mark every line shipped: the reserved stock leaves the ledger as a sale."""
    member = member_of(request)
    order = _order(request, order_id)
    try:
        services.order_fulfil(workspace_id=member.workspace.id, order_id=order.id,
                              actor=member.actor)
    except StoresyncError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Order #{order.number} fulfilled.")
    return redirect("web:order", order_id=order.id)
