"""A sale on one channel and a stock change in the hub reach every channel."""

from __future__ import annotations

import pytest

from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order
from tests.channels.e2e.conftest import STOCK, Hub, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_listing_pushes_the_hubs_quantity_to_both_channels(hub: Hub) -> None:
    for sku in hub.skus:
        assert hub.shopify_qty(sku) == STOCK
        assert hub.woo_qty(sku) == STOCK


def test_a_sale_on_shopify_is_one_order_reserves_stock_and_reaches_woocommerce(
        hub: Hub) -> None:
    sku = hub.skus[0]
    sale = hub.shopify_control("POST", "orders", {"lines": [{"sku": sku, "quantity": 3}],
                                                 "email": "buyer@example.com"})
    wait_until(lambda: hub.woo_qty(sku) == STOCK - 3, what="WooCommerce to show the sale")
    with workspace_scope(hub.workspace_id):
        orders = list(Order.objects.all())
    assert len(orders) == 1, sale
    level = hub.level(sku)
    assert (level.on_hand, level.reserved) == (STOCK, 3)
    assert hub.shopify_qty(sku) == STOCK - 3
    # The other SKU did not move anywhere.
    other = hub.skus[1]
    assert (hub.shopify_qty(other), hub.woo_qty(other), hub.available(other)) == (
        STOCK, STOCK, STOCK)


def test_hub_stock_changes_reach_both_channels_as_available_never_on_hand(hub: Hub) -> None:
    from storesync.inventory.services import level_set_safety_buffer, stock_adjust
    from tests.channels.e2e.conftest import ACTOR

    sku = hub.skus[0]
    variant, location = hub.variants[sku], hub.location_id
    stock_adjust(workspace_id=hub.workspace_id, variant_id=variant, location_id=location,
                 delta=-4, reason="count", actor=ACTOR)
    assert (hub.shopify_qty(sku), hub.woo_qty(sku)) == (6, 6)
    # A sale reserves 2, a buffer holds 1 back: on hand stays 6, channels show 3.
    hub.shopify_control("POST", "orders", {"lines": [{"sku": sku, "quantity": 2}]})
    wait_until(lambda: hub.woo_qty(sku) == 4, what="the sale to reach WooCommerce")
    level_set_safety_buffer(workspace_id=hub.workspace_id, variant_id=variant,
                            location_id=location, safety_buffer=1, actor=ACTOR)
    level = hub.level(sku)
    assert (level.on_hand, level.reserved, level.safety_buffer) == (6, 2, 1)
    wait_until(lambda: (hub.shopify_qty(sku), hub.woo_qty(sku)) == (3, 3),
               what="both channels to show on hand - reserved - buffer")
    # Down to nothing available: both channels show zero, not the reserved units.
    stock_adjust(workspace_id=hub.workspace_id, variant_id=variant, location_id=location,
                 delta=-3, reason="damaged", actor=ACTOR)
    assert hub.available(sku) == 0
    wait_until(lambda: (hub.shopify_qty(sku), hub.woo_qty(sku)) == (0, 0),
               what="both channels to show zero")
