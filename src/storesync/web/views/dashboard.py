"""The landing page of a workspace: today's sales, 30 days of them, low stock, channels."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from storesync.channels.models import Connection
from storesync.core.models import Membership
from storesync.core.permissions import Perm
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.inventory.selectors import low_stock
from storesync.orders import selectors as orders
from storesync.web.charts import sales_chart
from storesync.web.localtime import business_timezone
from storesync.web.membership import Member, member_of, member_required

CHART_DAYS = 30


def _sales(member: Member) -> dict[str, Any]:
    """Today's figures, the 30-day chart and orders per source (members who see orders)."""
    ws = member.workspace
    tz = business_timezone(ws)
    today = timezone.now().astimezone(tz).date()
    days = orders.sales_by_day(workspace_id=ws.id, first_day=today - timedelta(CHART_DAYS - 1),
                               days=CHART_DAYS, tz=tz)
    since = datetime.combine(today - timedelta(CHART_DAYS - 1), time.min, tzinfo=tz)
    return {"today": days[-1], "days": days, "chart": sales_chart(days, ws.currency),
            "open_orders": orders.open_order_count(workspace_id=ws.id), "chart_days": CHART_DAYS,
            "sources": orders.sales_by_source(workspace_id=ws.id, since=since)}


def _connections(member: Member) -> list[Connection]:
    # Names and platforms only: credentials stay sealed (never read here). A read, not a
    # write; it moves to a channels selector (with sync status) when channel sync lands.
    with workspace_scope(member.workspace.id):
        return list(Connection.objects.only("id", "name", "platform", "created_at")
                    .order_by("name")[:50])


@require_GET
@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    ws = member.workspace.id
    counts: dict[str, Any] = {}
    with workspace_scope(ws):
        counts["members"] = Membership.objects.count()
        if member.can(Perm.VIEW_CUSTOMERS):
            counts["customers"] = Customer.objects.count()
    sees_sales = member.can(Perm.VIEW_ORDERS) or member.can(Perm.VIEW_REPORTS)
    return render(request, "storesync/dashboard.html", {
        "counts": counts, "low_stock": low_stock(workspace_id=ws, limit=10),
        "sales": _sales(member) if sees_sales else None,
        "connections": _connections(member), "currency": member.workspace.currency,
    })
