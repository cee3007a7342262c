"""Points 2 and 5 against the simulators: webhook bodies applied by the inbox, Shopify stock
levels corrected, shipments pushed to the channel, cancellations released."""

from __future__ import annotations

import httpx
import pytest

from storesync.catalog.models import Listing
from storesync.channels import selectors
from storesync.channels.models import InboxEvent, InboxState, OutboxItem, OutboxKind, OutboxState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from storesync.orders.fulfillment import TrackingInput, fulfillment_create
from storesync.orders.models import FulfillmentOrder, Order
from tests.channels.sims.conftest import (
    ACTOR,
    base_of,
    connect_and_sync,
    connect_shopify,
    connect_woo,
    hub_catalog,
    relay,
    shopify_control,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _reserved(ws, variant) -> int:
    with workspace_scope(ws):
        return sum(Level.objects.filter(variant=variant).values_list("reserved", flat=True))


def _order(ws, external_id) -> Order:
    with workspace_scope(ws):
        return Order.objects.get(external_id=external_id)


def _fulfillment_order(ws, order):
    with workspace_scope(ws):
        return FulfillmentOrder.objects.get(order=order).id


def _shopify_level(server, sku) -> int:
    variant = server.shop.variant_by_sku(sku)
    return server.shop.levels[(variant.inventory_item_id, server.shop.default_location.id)]


def _wait_topic(receiver, topic: str) -> None:
    receiver.wait_for(lambda got: any(r.headers.get("X-Shopify-Topic") == topic for r in got))


@pytest.fixture
def shop(workspace, shopify, shopify_receiver):
    """Shopify with two variants the hub stocks 5 of each, listed by a first sync, and its
    webhooks delivered to a receiver (relayed to the hub by the tests)."""
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 2, "stock": 9})
    skus = sorted(v.sku for v in shopify.shop.variants.values())
    variants = hub_catalog(ws, dict.fromkeys(skus, 5))
    connection = connect_and_sync(connect_shopify, shopify, shopify_receiver.url, ws)
    assert [_shopify_level(shopify, sku) for sku in skus] == [5, 5]  # the hub's, pushed
    return ws, connection, skus, variants


def test_a_shopify_sale_is_applied_from_its_webhook_then_shipped_back(
        shop, shopify, shopify_receiver):
    ws, connection, skus, variants = shop
    sale = shopify_control(shopify, "orders", {"lines": [{"sku": skus[0], "quantity": 2}]})
    _wait_topic(shopify_receiver, "orders/create")

    assert set(relay(shopify_receiver.received, connection)) == {200}

    order = _order(ws, sale["id"])  # applied from the body, no reconciliation needed
    assert order.source == "shopify" and order.connection_id == connection.id
    assert _reserved(ws, variants[skus[0]]) == 2
    with workspace_scope(ws):
        states = set(InboxEvent.objects.values_list("state", flat=True))
    assert states == {InboxState.PROCESSED}
    assert _shopify_level(shopify, skus[0]) == 3  # the channel sold them itself

    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       fulfillment_order_id=_fulfillment_order(ws, order),
                       tracking=TrackingInput(company="Delhivery", number="DLV123456"))

    [shipped] = shopify.shop.orders[int(sale["id"].rsplit("/", 1)[1])].fulfillments
    assert shipped.tracking_number == "DLV123456" and shipped.tracking_company == "Delhivery"
    assert sum(q for _, q in shipped.lines) == 2
    with workspace_scope(ws):
        row = OutboxItem.objects.get(kind=OutboxKind.FULFILLMENT)
    assert row.state == OutboxState.DONE and row.external_id.startswith("gid://shopify/")


def test_a_channel_showing_more_than_the_hub_is_corrected(shop, shopify, shopify_receiver):
    ws, connection, skus, _ = shop
    item = shopify.shop.variant_by_sku(skus[1]).inventory_item_id
    shopify_control(shopify, "levels", {"inventory_item_id": item, "available": 40})
    shopify_receiver.wait_for(lambda got: any(b'"available":40' in r.body.replace(b" ", b"")
                                              for r in got))

    relay(shopify_receiver.received, connection)

    assert _shopify_level(shopify, skus[1]) == 5  # pushed back to the hub's available
    with workspace_scope(ws):
        listing = Listing.objects.get(connection=connection, variant__sku=skus[1])
    assert listing.last_channel_quantity == 5


def test_a_cancellation_on_shopify_releases_the_reservation(shop, shopify, shopify_receiver):
    ws, connection, skus, variants = shop
    sale = shopify_control(shopify, "orders", {"lines": [{"sku": skus[1], "quantity": 3}]})
    _wait_topic(shopify_receiver, "orders/create")
    relay(shopify_receiver.received, connection)
    assert _reserved(ws, variants[skus[1]]) == 3
    seen = len(shopify_receiver.received)

    shopify_control(shopify, f"orders/{sale['id']}/cancel", {"reason": "CUSTOMER"})
    _wait_topic(shopify_receiver, "orders/cancelled")
    relay(shopify_receiver.received, connection, start_at=seen)

    assert _order(ws, sale["id"]).cancelled_at is not None
    assert _reserved(ws, variants[skus[1]]) == 0
    assert _shopify_level(shopify, skus[1]) == 5


def test_a_shipment_the_channel_refuses_is_dead_lettered_with_its_reason(
        shop, shopify, shopify_receiver):
    ws, connection, skus, _ = shop
    sale = shopify_control(shopify, "orders", {"lines": [{"sku": skus[0], "quantity": 1}]})
    _wait_topic(shopify_receiver, "orders/create")
    relay(shopify_receiver.received, connection)
    order = _order(ws, sale["id"])
    # Shipped on Shopify's side first: nothing is left to fulfil there.
    with shopify.shop.lock:
        for fo in shopify.shop.orders[int(sale["id"].rsplit("/", 1)[1])].fulfillment_orders:
            for line in fo.lines:
                line.remaining_quantity = 0
            fo.status = "CLOSED"

    fulfillment_create(workspace_id=ws, order_id=order.id, actor=ACTOR,
                       fulfillment_order_id=_fulfillment_order(ws, order))

    [row] = selectors.dead_letters(workspace_id=ws, connection_id=connection.id)
    assert row.kind == OutboxKind.FULFILLMENT and row.state == OutboxState.DEAD
    assert "left to fulfil on Shopify" in row.last_error
    assert row.subject == f"shipment {order.display_name}.1"  # as the pages show it


def test_a_woocommerce_sale_and_cancellation_arrive_by_webhook(workspace, woo, woo_receiver):
    ws = workspace.workspace.id
    woo.sandbox.store.seed_catalog(products=2)
    [sku, *_] = sorted(p["sku"] for p in woo.sandbox.store.products.values()
                       if p.get("type") == "simple" and p.get("sku"))
    variants = hub_catalog(ws, {sku: 6})
    connection = connect_and_sync(connect_woo, woo, woo_receiver.url, ws)
    control = httpx.Client(base_url=woo.url, timeout=10)
    sale = control.post("/_sandbox/orders", json={
        "line_items": [{"sku": sku, "quantity": 2}], "status": "processing"}).json()
    control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})

    assert set(relay(woo_receiver.events(), connection)) == {200}
    assert _reserved(ws, variants[sku]) == 2
    seen = len(woo_receiver.events())

    from tests.channels.sims.conftest import WOO_KEY, WOO_SECRET

    # WooCommerce dates a change to the second; a later change is a later second.
    control.post("/_sandbox/clock", json={"advance_s": 5})
    cancelled = control.put(f"/wp-json/wc/v3/orders/{sale['id']}", auth=(WOO_KEY, WOO_SECRET),
                            json={"status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})
    relay(woo_receiver.events(), connection, start_at=seen)

    assert _order(ws, str(sale["id"])).cancelled_at is not None
    assert _reserved(ws, variants[sku]) == 0
    control.close()


def test_compliance_requests_are_held_and_shown_as_pending(shop, shopify, shopify_receiver,
                                                           owner_client):
    ws, connection, _, _ = shop
    address = f"{base_of(shopify_receiver.url)}/webhooks/shopify/{connection.id}"
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        shopify_control(shopify, "webhooks/trigger", {"topic": topic, "address": address})
    shopify_receiver.wait_for(lambda got: sum(
        r.headers.get("X-Shopify-Topic", "").endswith("redact")
        or r.headers.get("X-Shopify-Topic") == "customers/data_request" for r in got) >= 3)
    seen = [r for r in shopify_receiver.received
            if r.headers.get("X-Shopify-Topic") in ("customers/data_request",
                                                    "customers/redact", "shop/redact")]

    assert set(relay(seen, connection)) == {200}

    with workspace_scope(ws):
        held = set(InboxEvent.objects.filter(state=InboxState.HELD)
                   .values_list("platform_topic", flat=True))
    assert held == {"customers/data_request", "customers/redact", "shop/redact"}
    page = owner_client.get(f"/channels/{connection.id}/").content.decode()
    assert "Pending privacy requests (3)" in page and "customers/redact" in page
