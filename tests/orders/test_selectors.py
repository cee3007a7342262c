"""Order reads for the staff UI: filters, daily and per-source sales, reveal, timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storesync.orders import selectors
from storesync.orders.services import (
    AddressInput,
    LineInput,
    OrderInput,
    PaymentInput,
    order_cancel,
    order_create,
)
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR

IST = ZoneInfo("Asia/Kolkata")
PUNE = AddressInput(name="Asha Rao", line1="12 MG Road", city="Pune", postcode="411001",
                    province_code="MH")


@pytest.fixture
def shop(stock):
    from storesync.inventory.services import stock_receive

    ws, variants, main, _store = stock
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id, location_id=main.id,
                  quantity=50, actor=ACTOR)
    return ws, main


def _order(ws, main, placed_at: datetime, *, source: str = "manual", **extra):
    return order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], location_id=main.id, source=source,
        placed_at=placed_at, shipping_address=PUNE, **extra))


def test_sales_by_day_counts_business_days_and_skips_cancelled(shop):
    ws, main = shop
    # 20:00 UTC on 1 Nov is 01:30 IST on 2 Nov: it belongs to 2 Nov in India.
    _order(ws, main, datetime(2026, 11, 1, 20, 0, tzinfo=UTC))
    _order(ws, main, datetime(2026, 11, 1, 10, 0, tzinfo=UTC), source="shopify")
    dropped = _order(ws, main, datetime(2026, 11, 2, 5, 0, tzinfo=UTC))
    order_cancel(workspace_id=ws, order_id=dropped.id, reason="customer", actor=ACTOR)
    days = selectors.sales_by_day(workspace_id=ws, first_day=date(2026, 10, 31), days=4, tz=IST)
    assert [(d.day.day, d.orders, d.revenue_minor) for d in days] == [
        (31, 0, 0), (1, 1, 89900), (2, 1, 89900), (3, 0, 0)]
    sources = selectors.sales_by_source(workspace_id=ws,
                                        since=datetime(2026, 10, 1, tzinfo=UTC))
    assert {(s.source, s.orders) for s in sources} == {("manual", 1), ("shopify", 1)}


def test_list_filters_by_number_and_cancellation(shop):
    ws, main = shop
    now = datetime.now(UTC)
    first = _order(ws, main, now - timedelta(hours=1))
    second = _order(ws, main, now)
    order_cancel(workspace_id=ws, order_id=first.id, reason="other", actor=ACTOR)
    by_number = selectors.order_list(workspace_id=ws, number=second.number).items
    assert [o.id for o in by_number] == [second.id]
    assert [o.id for o in selectors.order_list(workspace_id=ws, cancelled=True).items] == [
        first.id]
    assert [o.id for o in selectors.order_list(workspace_id=ws, cancelled=False).items] == [
        second.id]
    assert selectors.order_sources(workspace_id=ws) == ["manual"]


def test_reveal_is_audited_and_shows_in_the_timeline(shop, workspace):
    ws, main = shop
    order = _order(ws, main, datetime.now(UTC), email="asha@example.com",
                   payments=[PaymentInput(kind="sale", amount_minor=89900, gateway="upi")])
    revealed = selectors.order_reveal(order=order, actor=ACTOR, purpose="order_fulfilment")
    assert revealed["email"] == "asha@example.com" and revealed["ship_city"] == "Pune"
    event = AuditEvent.objects.get(action="personal_data.read")
    assert (event.subject_type, event.subject_id) == ("order", str(order.id))
    order_cancel(workspace_id=ws, order_id=order.id, reason="customer", actor=ACTOR)
    loaded = selectors.order_get(workspace_id=ws, order_id=order.id)
    kinds = [e.kind for e in selectors.order_timeline(order=loaded)]
    assert kinds[0] == "order.placed"
    assert {"payment.sale", "stock.reserve", "stock.release", "order.cancelled",
            "personal_data.read"} <= set(kinds)
