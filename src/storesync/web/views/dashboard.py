"""The landing page of a workspace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.inventory.selectors import low_stock
from storesync.orders.models import Order
from storesync.web.membership import member_of, member_required


@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    ws = member.workspace.id
    with workspace_scope(ws):
        counts = {
            "customers": Customer.objects.count(),
            "orders": Order.objects.count(),
            "open_orders": Order.objects.filter(fulfillment_status="unfulfilled",
                                                cancelled_at__isnull=True).count(),
        }
    return render(request, "storesync/dashboard.html", {
        "counts": counts, "low_stock": low_stock(workspace_id=ws, limit=10),
    })
