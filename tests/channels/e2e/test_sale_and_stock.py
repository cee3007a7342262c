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
