"""Orders pages: filters and lookup, the order page (lines, GST, payments, timeline), masked
buyer with audited reveal, cancel and fulfil with permission checks, workspace isolation."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from storesync.orders.models import Order
from storesync.security.models import AuditEvent
from tests.web.conftest import assert_no_inline_code, enrol_totp

BUYER = ("zenobia", "quill", "9812345671", "560001")


def _assert_masked(html: str) -> None:
    lowered = html.lower()
    for value in BUYER:
        assert value not in lowered, value
    assert "•••••" in html


def _level(ws, variant):
    with workspace_scope(ws):
        return Level.objects.get(variant=variant, location__name="Pune warehouse")


def test_list_shows_orders_masked(owner_client, placed_order):
    response = owner_client.get("/orders/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/orders/{placed_order.id}/">#1001<' in html
    assert "₹1,798.00" in html and "paid" in html and "unfulfilled" in html
    assert 'data-label="Ship to">KA IN<' in html
    for value in BUYER:  # lists never decrypt
        assert value not in html.lower()
    assert_no_inline_code(html)


def test_lookup_by_number_opens_the_order(owner_client, placed_order):
    response = owner_client.get("/orders/?number=1001")
    assert response.status_code == 302 and response["Location"] == f"/orders/{placed_order.id}/"
    missing = owner_client.get("/orders/?number=999").content.decode()
    assert "No order matches number 999" in missing


def test_filters_by_status_source_and_dates(owner_client, placed_order):
    link = f"/orders/{placed_order.id}/"
    assert link in owner_client.get("/orders/?financial_status=paid").content.decode()
    assert link not in owner_client.get("/orders/?financial_status=pending").content.decode()
    assert link in owner_client.get("/orders/?source=manual&state=open").content.decode()
    assert link not in owner_client.get("/orders/?source=shopify").content.decode()
    assert link not in owner_client.get("/orders/?state=cancelled").content.decode()
    today = timezone.now().date()
    assert link in owner_client.get(
        f"/orders/?placed_from={today - timedelta(days=1)}&placed_to={today + timedelta(days=1)}"
    ).content.decode()
    assert link not in owner_client.get(
        f"/orders/?placed_to={today - timedelta(days=2)}").content.decode()


def test_bad_filters_are_shown_next_to_the_field(owner_client, placed_order):
    response = owner_client.get("/orders/?placed_from=2026-05-02&placed_to=2026-05-01")
    assert response.status_code == 400
    assert "The end date is before the start date" in response.content.decode()
    assert owner_client.get("/orders/?number=abc").status_code == 400
    assert owner_client.get("/orders/?cursor=nope").status_code == 404


def test_order_page_has_lines_gst_totals_payments_and_timeline(owner_client, placed_order):
    response = owner_client.get(f"/orders/{placed_order.id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "KURTA-M" in html and "Cotton Kurta (M)" in html
    # 2 x 899.00 at 5% GST, tax-inclusive, shipped from a warehouse without a state: IGST.
    assert re.search(r'id="order-total"><strong>₹1,798.00<', html)
    assert re.search(r'id="igst">₹85.62<', html)
    assert "visa •••• 4242" in html and "razorpay" in html
    assert "Order #1001 placed" in html and "Reserved 2 of KURTA-M at Pune warehouse" in html
    _assert_masked(html)
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()
    assert_no_inline_code(html)


def test_reveal_is_audited_like_the_customers_page(owner_client, workspace, placed_order):
    response = owner_client.post(f"/orders/{placed_order.id}/reveal",
                                 {"purpose": "order_fulfilment"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert re.search(r'id="buyer-email">zenobia.quill@example.com<', html)
    assert "7 Quill Lane" in html and "Order fulfilment" in html
    event = AuditEvent.objects.get(action="personal_data.read", subject_id=str(placed_order.id))
    assert (event.actor_type, event.actor_id) == ("user", str(workspace.owner.id))
    assert event.purpose == "order_fulfilment" and "order.email" in event.fields
    # The reveal now shows in the order's timeline; the page itself is masked again.
    again = owner_client.get(f"/orders/{placed_order.id}/").content.decode()
    assert "Buyer details revealed (order fulfilment)" in again
    _assert_masked(again)


def test_reveal_needs_a_purpose_and_the_permission(owner_client, member_client, placed_order):
    bad = owner_client.post(f"/orders/{placed_order.id}/reveal", {"purpose": "curiosity"})
    assert bad.status_code == 400
    _assert_masked(bad.content.decode())
    viewer = member_client("viewer", totp=False)
    page = viewer.get(f"/orders/{placed_order.id}/")
    assert page.status_code == 200 and 'id="reveal"' not in page.content.decode()
    assert viewer.post(f"/orders/{placed_order.id}/reveal",
                       {"purpose": "order_fulfilment"}).status_code == 403
    assert not AuditEvent.objects.filter(action="personal_data.read",
                                         subject_type="order").exists()


def test_staff_without_totp_are_sent_to_enrol(member_client, placed_order):
    staff = member_client("staff", totp=False)
    response = staff.get(f"/orders/{placed_order.id}/")
    assert response.status_code == 302 and "/2fa/totp/activate" in response["Location"]


def test_cancel_releases_stock(owner_client, stock, placed_order):
    ws, variants, *_ = stock
    assert _level(ws, variants["KURTA-M"]).reserved == 2
    response = owner_client.post(f"/orders/{placed_order.id}/cancel", {"reason": "customer"})
    assert response.status_code == 302
    with workspace_scope(ws):
        order = Order.objects.get(id=placed_order.id)
    assert order.cancelled_at is not None and order.cancel_reason == "customer"
    assert _level(ws, variants["KURTA-M"]).reserved == 0
    html = owner_client.get(f"/orders/{placed_order.id}/").content.decode()
    assert "Cancelled: customer" in html and "Released 2 of KURTA-M" in html
    assert 'id="cancel"' not in html and 'id="fulfil"' not in html


def test_fulfil_turns_the_reservation_into_a_sale(owner_client, stock, placed_order):
    ws, variants, *_ = stock
    assert owner_client.post(f"/orders/{placed_order.id}/fulfil").status_code == 302
    level = _level(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (8, 0)
    html = owner_client.get(f"/orders/{placed_order.id}/").content.decode()
    assert "Shipped (sold) 2 of KURTA-M" in html and "2 shipped" in html
    # A fulfilled order can no longer be cancelled: the service refuses, the page says why.
    refused = owner_client.post(f"/orders/{placed_order.id}/cancel", {"reason": "customer"},
                                follow=True)
    assert "2 unit(s) of this order already shipped: refund or return" in refused.content.decode()


def test_viewer_cannot_cancel_or_fulfil(member_client, stock, placed_order):
    ws, variants, *_ = stock
    viewer = member_client("viewer", totp=False)
    assert 'id="cancel"' not in viewer.get(f"/orders/{placed_order.id}/").content.decode()
    assert viewer.post(f"/orders/{placed_order.id}/cancel",
                       {"reason": "customer"}).status_code == 403
    assert viewer.post(f"/orders/{placed_order.id}/fulfil").status_code == 403
    assert _level(ws, variants["KURTA-M"]).reserved == 2


def test_actions_are_post_only_and_csrf_protected(workspace, placed_order):
    enrol_totp(workspace.owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(workspace.owner)
    assert client.get(f"/orders/{placed_order.id}/cancel").status_code == 405
    assert client.post(f"/orders/{placed_order.id}/cancel",
                       {"reason": "customer"}).status_code == 403
    with workspace_scope(workspace.workspace.id):
        assert Order.objects.get(id=placed_order.id).cancelled_at is None


def test_other_workspaces_orders_are_not_found(other_workspace, placed_order):
    enrol_totp(other_workspace.owner)
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    base = f"/orders/{placed_order.id}/"
    assert intruder.get(base).status_code == 404
    assert intruder.post(base + "reveal", {"purpose": "order_fulfilment"}).status_code == 404
    assert intruder.post(base + "cancel", {"reason": "customer"}).status_code == 404
    assert intruder.post(base + "fulfil").status_code == 404
    assert "#1001" not in intruder.get("/orders/").content.decode()
    assert intruder.get("/orders/?number=1001").status_code == 200  # no redirect: not theirs
    assert not AuditEvent.objects.filter(action="personal_data.read").exists()


def test_list_pages_with_a_keyset_cursor(owner_client, stock, placed_order, monkeypatch):
    from storesync.customers.services import AddressInput
    from storesync.orders.services import LineInput, OrderInput, order_create
    from storesync.web.views import orders as view
    from tests.conftest import ACTOR

    ws, _variants, main, _ = stock
    for _ in range(2):
        order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
            lines=[LineInput(sku="KURTA-M", quantity=1)], location_id=main.id,
            shipping_address=AddressInput(name="A B", line1="1 Road", city="Pune",
                                          postcode="411001", province_code="MH",
                                          country_code="IN")))
    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    first = owner_client.get("/orders/?state=open").content.decode()
    assert "#1003" in first and "#1002" in first and "#1001<" not in first
    nxt = re.search(r'href="\?([^"]+)" rel="next"|rel="next" href="\?([^"]+)"', first)
    query = (nxt.group(1) or nxt.group(2)).replace("&amp;", "&")
    second = owner_client.get(f"/orders/?{query}").content.decode()
    assert "#1001<" in second and "#1003" not in second and "state=open" in query


def test_list_counts_lines_without_loading_the_orders_relations(owner_client, stock,
                                                               placed_order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from storesync.orders.services import LineInput, OrderInput, order_create
    from tests.conftest import ACTOR
    from tests.orders.conftest import PUNE

    ws, _, main, _ = stock
    two = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1), LineInput(sku="KURTA-M", quantity=3)],
        location_id=main.id, shipping_address=PUNE))
    with CaptureQueriesContext(connection) as ctx:
        html = owner_client.get("/orders/").content.decode()
    rows = dict(re.findall(r'href="/orders/([0-9a-f-]+)/">#\d+<.*?data-label="Items" '
                           r'class="num">(\d+)<', html, re.DOTALL))
    assert rows == {str(two.id): "2", str(placed_order.id): "1"}
    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    for relation in ("orders_transaction", "orders_fulfillment", "orders_refund",
                     "orders_return"):
        assert f'FROM "{relation}' not in tables, relation
