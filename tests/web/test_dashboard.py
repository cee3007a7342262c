"""Dashboard: today's orders and revenue, the 30-day SVG chart, low stock, orders per
channel, channel health; the chart's geometry and the money format."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import timezone

from storesync.channels.services import connection_create
from storesync.customers.services import AddressInput
from storesync.orders.selectors import DaySales
from storesync.orders.services import LineInput, OrderInput, order_cancel, order_create
from storesync.web.charts import nice_ceiling, sales_chart
from storesync.web.templatetags.storesync_ui import compact_money, format_money
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code


def _order(ws, main, *, days_ago: int = 0, source: str = "manual", quantity: int = 1):
    return order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=quantity)], location_id=main.id, source=source,
        placed_at=timezone.now() - timedelta(days=days_ago),
        shipping_address=AddressInput(name="A B", line1="1 Road", city="Pune",
                                      postcode="411001", province_code="MH")))


def test_today_chart_and_sources(owner_client, stock, placed_order):
    ws, _variants, main, _store = stock
    _order(ws, main, days_ago=3, source="shopify", quantity=2)
    cancelled = _order(ws, main)
    order_cancel(workspace_id=ws, order_id=cancelled.id, reason="customer", actor=ACTOR)
    response = owner_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert_no_inline_code(html)
    # Today: the placed order only (the cancelled one does not count).
    assert re.search(r'id="today-orders">1<', html)
    assert re.search(r'id="today-revenue">₹1,798.00<', html)
    assert re.search(r'id="count-open-orders">2<', html)
    # The chart: an accessible SVG with 30 bars and a description of the totals.
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert 'role="img"' in svg and 'aria-labelledby="chart-title chart-desc"' in svg
    assert "<title id=\"chart-title\">Revenue and orders per day, last 30 days</title>" in svg
    assert "30 days: 2 orders, ₹3,596.00 revenue." in svg
    assert svg.count("<rect") == 30 and svg.count("<circle") == 30
    # Orders per channel over 30 days.
    sources = html.split('id="h-sources"')[1].split("</section>")[0]
    assert "shopify" in sources and "manual" in sources and "₹1,798.00" in sources


def test_channel_health_lists_connections(owner_client, workspace):
    html = owner_client.get("/").content.decode()
    panel = html.split('id="channel-health"')[1].split("</section>")[0]
    assert "No connections yet" in panel and "storesync connection add" in panel
    connection_create(workspace_id=workspace.workspace.id, platform="shopify",
                      name="Acme India", credentials={"token": "x"},
                      webhook_secret="s" * 32, actor=ACTOR)
    panel = owner_client.get("/").content.decode().split('id="channel-health"')[1]
    assert "Acme India" in panel.split("</section>")[0] and "Shopify" in panel


def test_low_stock_lists_levels_at_or_below_threshold(owner_client, stock, placed_order):
    from storesync.inventory.selectors import level_list
    from storesync.inventory.services import level_configure

    ws, *_ = stock
    (level,) = level_list(workspace_id=ws).items
    empty = owner_client.get("/").content.decode().split('id="h-low"')[1]
    assert "Nothing is at or below" in empty.split("</section>")[0]
    level_configure(workspace_id=ws, level_id=level.id, safety_buffer=0,
                    low_stock_threshold=8, actor=ACTOR)  # 10 on hand, 2 reserved: 8 available
    low = owner_client.get("/").content.decode().split('id="h-low"')[1].split("</section>")[0]
    assert "KURTA-M" in low and "Pune warehouse" in low


def test_members_without_order_access_see_no_sales(member_client, workspace, placed_order):
    from storesync.core.services import role_create

    role_create(workspace_id=workspace.workspace.id, slug="packer", name="Packer",
                permissions=["manage_inventory"], actor=ACTOR)
    packer = member_client("packer", totp=False)
    html = packer.get("/").content.decode()
    assert "today-revenue" not in html and "<svg" not in html and 'id="h-low"' in html
    assert packer.get("/orders/").status_code == 403


def test_nav_links_every_section_the_role_may_open(owner_client, member_client):
    html = owner_client.get("/").content.decode()
    for link in ("/orders/", "/products/", "/inventory/", "/customers/", "/settings/locations/",
                 "/settings/members/", "/settings/tokens/", "/settings/audit/"):
        assert f'href="{link}"' in html, link
    viewer = member_client("viewer", totp=False).get("/").content.decode()
    assert 'href="/orders/"' in viewer and 'href="/settings/locations/"' not in viewer


def test_chart_geometry():
    start = date(2026, 11, 1)
    days = [DaySales(start + timedelta(days=i), i % 3, 10_000 * i) for i in range(30)]
    chart = sales_chart(days, "INR")
    assert len(chart.bars) == 30
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.label == "30 Nov: 2 orders, ₹2,900.00"
    assert all(abs(bar.y + bar.height - chart.plot_bottom) < 0.2 for bar in chart.bars)
    assert [t.label for t in chart.y_ticks] == ["₹0", "₹1k", "₹2k", "₹3k", "₹4k"]
    assert chart.x_ticks[0].label == "30 Nov" and len(chart.x_ticks) == 5
    quiet = sales_chart([DaySales(start, 0, 0)], "INR")
    assert quiet.bars[0].height == 0 and "1 days: 0 orders" in quiet.description


def test_nice_ceiling_and_money_formats():
    assert [nice_ceiling(v) for v in (0, 1, 7, 290_000, 1_000_001)] == [
        4, 4, 8, 400_000, 2_000_000]
    assert format_money(123456789, "INR") == "₹12,34,567.89"
    assert format_money(123456789, "USD") == "$1,234,567.89"
    assert format_money(-500, "INR") == "\u2212₹5.00"
    assert format_money(1500, "JPY") == "¥1,500"
    assert format_money(None, "INR") == "—"
    assert compact_money(150_000_00, "INR") == "₹150k"
    assert compact_money(2_500_000_00, "EUR") == "€2.5M"
