"""Catalog webhooks from the Shopify simulator applied to the mapping: the hub owns catalog
and stock, so new channel variants are matched by SKU (or shown unmatched), deleted ones are
unlinked with a reason in the audit log, a changed SKU is matched again, a channel's stock
number never replaces the hub's, and no variant is ever duplicated."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from storesync.catalog.models import Listing, Variant
from storesync.channels import initial
from storesync.channels.models import UnmatchedVariant
from storesync.channels.sandbox.shopify import payloads
from storesync.channels.sandbox.shopify import state as st
from storesync.core.tenancy import workspace_scope
from storesync.security.models import AuditEvent
from tests.channels.sims.conftest import (
    connect_and_sync,
    connect_shopify,
    hub_catalog,
    relay,
    shopify_control,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(workspace, shopify, shopify_receiver):
    """One Shopify product with two variants, both stocked 5 in the hub and first-synced;
    the hub also has a third SKU that the channel does not sell yet."""
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 2, "stock": 9})
    skus = sorted(v.sku for v in shopify.shop.variants.values())
    variants = hub_catalog(ws, {**dict.fromkeys(skus, 5), "HUB-ONLY-1": 4})
    connection = connect_and_sync(connect_shopify, shopify, shopify_receiver.url, ws)
    [product] = shopify.shop.products.values()
    return ws, connection, product, skus, variants


def _add_variant(shopify, product, sku: str, stock: int) -> st.Variant:
    shop = shopify.shop
    with shop.lock:
        variant = st.Variant(shop.new_id(), product.id, sku, sku, Decimal("499.00"),
                             (("Size", "XL"), ("Colour", "Red")), shop.new_id())
        shop.variants[variant.id] = variant
        shop.items[variant.inventory_item_id] = st.InventoryItem(
            variant.inventory_item_id, variant.id, sku)
        shop.levels[(variant.inventory_item_id, shop.default_location.id)] = stock
        product.variant_ids.append(variant.id)
    return variant


def _deliver(shopify, receiver, connection, topic: str, payload) -> None:
    seen = len(receiver.received)
    shopify.emit(topic, payload)
    receiver.wait_for(lambda got: len(got) > seen)
    assert set(relay(receiver.received, connection, start_at=seen)) == {200}


def _listings(ws, connection) -> dict[str, Listing]:
    with workspace_scope(ws):
        return {lst.variant.sku: lst for lst in
                Listing.objects.filter(connection=connection).select_related("variant")}


def _unmatched(ws, connection) -> dict[str, str]:
    with workspace_scope(ws):
        return dict(UnmatchedVariant.objects.filter(connection=connection)
                    .values_list("sku", "reason"))


def _level(shopify, variant: st.Variant) -> int:
    return shopify.shop.levels[(variant.inventory_item_id, shopify.shop.default_location.id)]


def test_a_new_variant_is_matched_by_sku_and_shows_the_hubs_stock(
        shop, shopify, shopify_receiver):
    ws, connection, product, _, variants = shop
    added = _add_variant(shopify, product, "HUB-ONLY-1", stock=50)
    body = payloads.product(product, shopify.shop)

    _deliver(shopify, shopify_receiver, connection, "products/update", body)
    _deliver(shopify, shopify_receiver, connection, "products/update", body)  # again: no-op

    listing = _listings(ws, connection)["HUB-ONLY-1"]
    assert listing.variant_id == variants["HUB-ONLY-1"].id
    assert listing.external_variant_id == st.gid("ProductVariant", added.id)
    assert _level(shopify, added) == 4  # the hub's available, not the channel's 50
    with workspace_scope(ws):
        assert Listing.objects.filter(connection=connection).count() == 3
        assert Variant.objects.count() == 3  # nothing created in the hub
        assert AuditEvent.objects.filter(action="listing.linked").count() == 1


def test_a_new_variant_the_hub_lacks_is_shown_unmatched_not_created(
        shop, shopify, shopify_receiver):
    ws, connection, product, _, _ = shop
    _add_variant(shopify, product, "CHANNEL-ONLY-9", stock=3)
    _add_variant(shopify, product, "", stock=1)

    _deliver(shopify, shopify_receiver, connection, "products/update",
             payloads.product(product, shopify.shop))

    assert _unmatched(ws, connection) == {"CHANNEL-ONLY-9": initial.UNKNOWN_SKU,
                                          "": initial.NO_SKU}
    with workspace_scope(ws):
        assert not Variant.objects.filter(sku="CHANNEL-ONLY-9").exists()
    assert len(_listings(ws, connection)) == 2


def test_a_variant_deleted_on_the_channel_is_unlinked_with_its_reason(
        shop, shopify, shopify_receiver):
    ws, connection, product, skus, _ = shop
    with shopify.shop.lock:
        gone = shopify.shop.variant_by_sku(skus[1])
        product.variant_ids.remove(gone.id)
        del shopify.shop.variants[gone.id]

    _deliver(shopify, shopify_receiver, connection, "products/update",
             payloads.product(product, shopify.shop))

    assert set(_listings(ws, connection)) == {skus[0]}
    with workspace_scope(ws):
        [event] = AuditEvent.objects.filter(action="listing.unlinked")
    assert event.detail["sku"] == skus[1] and event.detail["reason"] == "deleted on the channel"


def test_a_sku_changed_on_the_channel_is_matched_again(shop, shopify, shopify_receiver):
    ws, connection, product, skus, _ = shop
    renamed = shopify.shop.variant_by_sku(skus[0])
    renamed.sku = "HUB-ONLY-1"

    _deliver(shopify, shopify_receiver, connection, "products/update",
             payloads.product(product, shopify.shop))

    listings = _listings(ws, connection)
    assert set(listings) == {"HUB-ONLY-1", skus[1]}
    assert listings["HUB-ONLY-1"].external_variant_id == st.gid("ProductVariant", renamed.id)
    assert _level(shopify, renamed) == 4  # now the stock of the variant it names

    # Renamed to the SKU another listed channel variant has: shown, never duplicated.
    renamed.sku = skus[1]
    _deliver(shopify, shopify_receiver, connection, "products/update",
             payloads.product(product, shopify.shop))
    assert set(_listings(ws, connection)) == {skus[1]}
    assert _unmatched(ws, connection) == {skus[1]: initial.DUPLICATE_SKU}


def test_a_deleted_product_unlinks_its_listings(shop, shopify, shopify_receiver):
    ws, connection, product, _, _ = shop
    _deliver(shopify, shopify_receiver, connection, "products/delete",
             payloads.product_deleted(product.id))

    assert _listings(ws, connection) == {}
    with workspace_scope(ws):
        assert AuditEvent.objects.filter(action="listing.unlinked").count() == 2
        assert Variant.objects.count() == 3  # the hub's catalog stays the hub's


def test_woocommerce_sku_changes_and_deletions_follow_the_hub(workspace, woo, woo_receiver):
    from tests.channels.sims.conftest import WOO_KEY, WOO_SECRET, connect_woo

    ws = workspace.workspace.id
    woo.sandbox.store.seed_catalog(products=3)
    simple = sorted((p["sku"], p["id"]) for p in woo.sandbox.store.products.values()
                    if p.get("type") == "simple" and p.get("sku"))
    (sku_a, id_a), (sku_b, id_b) = simple[:2]
    hub_catalog(ws, {sku_a: 6, sku_b: 2, "HUB-WOO-NEW": 3})
    connection = connect_and_sync(connect_woo, woo, woo_receiver.url, ws)
    api = httpx.Client(base_url=f"{woo.url}/wp-json/wc/v3", auth=(WOO_KEY, WOO_SECRET),
                       timeout=10)
    control = httpx.Client(base_url=woo.url, timeout=10)

    relayed = {"count": 0}

    def deliver() -> None:
        control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})
        answers = relay(woo_receiver.events(), connection, start_at=relayed["count"])
        assert set(answers) <= {200}
        relayed["count"] += len(answers)

    def deliver_until(done) -> None:
        # The store queues webhooks from a background thread and one change may send several:
        # on a busy machine the one that matters can come a flush later. Bounded wait.
        deadline = time.monotonic() + 30
        deliver()
        while not done() and time.monotonic() < deadline:
            time.sleep(0.3)
            deliver()

    deliver()
    assert api.put(f"/products/{id_a}", json={"sku": "HUB-WOO-NEW"}).status_code == 200
    deliver_until(lambda: "HUB-WOO-NEW" in _listings(ws, connection))
    listings = _listings(ws, connection)
    assert sku_a not in listings and listings["HUB-WOO-NEW"].external_variant_id == str(id_a)
    assert woo.sandbox.store.products[id_a]["stock_quantity"] == 3  # the new SKU's stock

    assert api.delete(f"/products/{id_b}", params={"force": "true"}).status_code == 200
    deliver_until(lambda: sku_b not in _listings(ws, connection))
    assert sku_b not in _listings(ws, connection)
    with workspace_scope(ws):
        assert AuditEvent.objects.filter(action="listing.unlinked").count() == 2
