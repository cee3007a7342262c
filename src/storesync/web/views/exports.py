"""CSV downloads of products, stock levels and order lines, streamed in constant memory.

The same generators as ``/api/v1/exports`` and ``storesync export``, and the same permission
(``view_orders``). The products and stock files have the import's columns, so a download can
be edited in a spreadsheet and uploaded again. The orders file holds no personal data (ADR
0009); its date range is whole business days, like the orders list's filter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.http import require_GET

from storesync.catalog import bulk as catalog_bulk
from storesync.core.permissions import Perm
from storesync.inventory import bulk as inventory_bulk
from storesync.orders.export import orders_csv
from storesync.web.localtime import business_timezone
from storesync.web.membership import member_of, member_required

EXPORTS = ("products", "inventory", "orders")


class RangeForm(forms.Form):
    placed_from = forms.DateField(required=False)
    placed_to = forms.DateField(required=False)


def _csv(chunks: Iterator[str], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@member_required(Perm.VIEW_ORDERS)
def export_csv(request: HttpRequest, what: str) -> HttpResponseBase:
    member = member_of(request)
    ws = member.workspace
    if what == "products":
        return _csv(catalog_bulk.products_csv(workspace_id=ws.id, currency=ws.currency),
                    "products")
    if what == "inventory":
        return _csv(inventory_bulk.levels_csv(workspace_id=ws.id), "inventory")
    if what != "orders":
        raise Http404("There is no such export.")
    dates = RangeForm(request.GET)
    if not dates.is_valid():
        return HttpResponse("Dates are written YYYY-MM-DD.", status=400,
                            content_type="text/plain; charset=utf-8")
    tz = business_timezone(ws)
    start, end = dates.cleaned_data["placed_from"], dates.cleaned_data["placed_to"]
    placed_from = datetime.combine(start, time.min, tzinfo=tz) if start else None
    placed_to = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) if end else None
    return _csv(orders_csv(workspace_id=ws.id, placed_from=placed_from, placed_to=placed_to),
                "orders")
