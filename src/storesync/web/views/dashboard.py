"""The landing page of a workspace: counts and where to go next."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from storesync.core.models import Membership
from storesync.core.permissions import Perm
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.inventory.selectors import low_stock
from storesync.orders.models import Order
from storesync.web.membership import member_of, member_required


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
        if member.can(Perm.VIEW_ORDERS):
            counts["orders"] = Order.objects.count()
            counts["open_orders"] = Order.objects.filter(fulfillment_status="unfulfilled",
                                                         cancelled_at__isnull=True).count()
    return render(request, "storesync/dashboard.html", {
        "counts": counts, "low_stock": low_stock(workspace_id=ws, limit=10),
    })
