"""The re-inflation race: a sale on Shopify that the hub has not heard of yet, and a stock
change in the hub pushed at that very moment. A blind "set to the hub's number" would put
the sold units back on sale; compare-and-set catches it and the hub learns the sale first."""

from __future__ import annotations

from typing import Any

import pytest

from storesync.inventory.services import stock_adjust
from tests.channels.e2e.conftest import ACTOR, STOCK, Hub, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


class _Recording(dict):  # type: ignore[type-arg]
    """The sandbox's levels, remembering every value each level was set to."""

    def __init__(self, data: dict[Any, int]) -> None:
        super().__init__(data)
        self.history: dict[Any, list[int]] = {key: [value] for key, value in data.items()}

    def __setitem__(self, key: Any, value: int) -> None:
        self.history.setdefault(key, []).append(value)
        super().__setitem__(key, value)


def test_shopify_never_shows_more_than_the_hubs_true_available(hub: Hub) -> None:
    sku = hub.skus[0]
    shop = hub.shopify.shop
    with shop.lock:
        shop.levels = levels = _Recording(shop.levels)
        variant = shop.variant_by_sku(sku)
        assert variant is not None
        key = (variant.inventory_item_id, shop.default_location.id)
    # The sale's webhooks are held back: the hub does not know about it yet.
    hub.shopify_control("POST", "faults", {"webhook_delay": 10, "webhook_delay_s": 3.0})
    hub.shopify_control("POST", "orders", {"lines": [{"sku": sku, "quantity": 3}]})
    assert hub.shopify_qty(sku) == STOCK - 3
    # Meanwhile a unit is found damaged in the hub: 9 on hand, 3 of them sold on Shopify.
    stock_adjust(workspace_id=hub.workspace_id, variant_id=hub.variants[sku],
                 location_id=hub.location_id, delta=-1, reason="damaged", actor=ACTOR)
    true_available = STOCK - 1 - 3
    assert max(levels.history[key][levels.history[key].index(STOCK - 3):]) <= STOCK - 3, (
        f"Shopify was set back above what is left: {levels.history[key]}")
    assert hub.shopify_qty(sku) == true_available
    # Once the late webhooks arrive nothing changes: the order is there once.
    wait_until(lambda: hub.shopify.deliverer.pending() == 0, timeout_s=20,
               what="the delayed webhooks")
    level = hub.level(sku)
    assert (level.on_hand, level.reserved) == (STOCK - 1, 3)
    assert hub.shopify_qty(sku) == true_available
    wait_until(lambda: hub.woo_qty(sku) == true_available, what="WooCommerce to agree")
