"""Catalog webhooks from the Shopify simulator applied to the mapping: the hub owns catalog
and stock, so new channel variants are matched by SKU (or shown unmatched), deleted ones are
unlinked with a reason in the audit log, a changed SKU is matched again, a channel's stock
number never replaces the hub's, and no variant is ever duplicated."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from storesync.catalog.models import Listing, Variant
from storesync.channels import inbox, initial
from storesync.channels.models import InboxEvent, InboxState, UnmatchedVariant
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


@dataclass
class WooShop:
    """A WooCommerce store first-synced with the hub, and the relay of its webhooks."""

    ws: Any
    connection: Any
    store: Any
    api: httpx.Client
    control: httpx.Client
    receiver: Any
    ids: dict[str, int]  # seeded simple products' SKU -> id
    relayed: int = 0

    def deliver(self) -> None:
        self.control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})
        answers = relay(self.receiver.events(), self.connection, start_at=self.relayed)
        assert set(answers) <= {200}
        self.relayed += len(answers)

    def deliver_until(self, done: Callable[[], bool]) -> None:
        # The store queues webhooks from a background thread and one change may send several:
        # on a busy machine the one that matters can come a flush later. Bounded wait.
        deadline = time.monotonic() + 30
        self.deliver()
        while not done() and time.monotonic() < deadline:
            time.sleep(0.3)
            self.deliver()

    def stock(self, item_id: int) -> int:
        found = self.store.products.get(item_id) or self.store.variations[item_id]
        return int(found["stock_quantity"])


# The seed numbers products on: the fixture's three are SB-00001..3, a product seeded next is
# SB-00004 (its variations SB-00004-S/M/L when it is variable).
HUB_WOO = {"HUB-WOO-NEW": 3, "HUB-WOO-OTHER": 8, "HUB-WOO-S": 7, "HUB-WOO-V-S": 3,
           "SB-00004-S": 3, "SB-00004-M": 5}


@pytest.fixture
def woo_shop(workspace, woo, woo_receiver) -> Iterator[WooShop]:
    """Three seeded products (two simple ones stocked 6 and 2 in the hub, first-synced) and
    hub SKUs the store does not sell yet (``HUB_WOO``)."""
    from tests.channels.sims.conftest import WOO_KEY, WOO_SECRET, connect_woo

    ws = workspace.workspace.id
    woo.sandbox.store.seed_catalog(products=3)
    simple = sorted((p["sku"], p["id"]) for p in woo.sandbox.store.products.values()
                    if p.get("type") == "simple" and p.get("sku"))
    (sku_a, id_a), (sku_b, id_b) = simple[:2]
    hub_catalog(ws, {sku_a: 6, sku_b: 2, **HUB_WOO})
    connection = connect_and_sync(connect_woo, woo, woo_receiver.url, ws)
    with (httpx.Client(base_url=f"{woo.url}/wp-json/wc/v3", auth=(WOO_KEY, WOO_SECRET),
                       timeout=10) as api,
          httpx.Client(base_url=woo.url, timeout=10) as control):
        shop = WooShop(ws, connection, woo.sandbox.store, api, control, woo_receiver,
                       {sku_a: id_a, sku_b: id_b})
        shop.deliver()  # what the first sync's pushes sent back
        yield shop


def _events(ws, connection, platform_topic: str) -> list[InboxEvent]:
    with workspace_scope(ws):
        return list(InboxEvent.objects.filter(connection=connection,
                                              platform_topic=platform_topic)
                    .order_by("received_at", "id"))


def test_woocommerce_sku_changes_and_deletions_follow_the_hub(woo_shop):
    ws, connection = woo_shop.ws, woo_shop.connection
    (sku_a, id_a), (sku_b, id_b) = sorted(woo_shop.ids.items())

    assert woo_shop.api.put(f"/products/{id_a}", json={"sku": "HUB-WOO-NEW"}).status_code == 200
    woo_shop.deliver_until(lambda: "HUB-WOO-NEW" in _listings(ws, connection))
    listings = _listings(ws, connection)
    assert sku_a not in listings and listings["HUB-WOO-NEW"].external_variant_id == str(id_a)
    assert woo_shop.stock(id_a) == 3  # the new SKU's stock

    assert woo_shop.api.delete(f"/products/{id_b}", params={"force": "true"}).status_code == 200
    woo_shop.deliver_until(lambda: sku_b not in _listings(ws, connection))
    assert sku_b not in _listings(ws, connection)
    with workspace_scope(ws):
        assert AuditEvent.objects.filter(action="listing.unlinked").count() == 2


def test_a_new_woocommerce_simple_product_is_listed_and_shows_the_hubs_stock(woo_shop):
    ws, connection = woo_shop.ws, woo_shop.connection
    created = woo_shop.api.post("/products", json={
        "name": "Block-print tee", "type": "simple", "sku": "HUB-WOO-S",
        "regular_price": "499.00", "manage_stock": True, "stock_quantity": 50})
    assert created.status_code == 201
    pid = created.json()["id"]

    woo_shop.deliver_until(lambda: woo_shop.stock(pid) == 7)

    listing = _listings(ws, connection)["HUB-WOO-S"]
    assert (listing.external_product_id, listing.external_variant_id,
            listing.inventory_item_id) == (str(pid), str(pid), str(pid))
    assert woo_shop.stock(pid) == 7  # the hub's available, not the channel's 50
    assert listing.last_channel_quantity == 7
    [created_event] = _events(ws, connection, "product.created")
    assert created_event.state == InboxState.PROCESSED
    with workspace_scope(ws):
        assert Variant.objects.count() == 2 + len(HUB_WOO)  # nothing created in the hub
        [linked] = AuditEvent.objects.filter(action="listing.linked")
    assert linked.detail["sku"] == "HUB-WOO-S"


def test_a_new_woocommerce_variable_product_is_read_whole_and_listed(woo_shop):
    """The parent's product.created names its variations by id only: they are read from the
    store, matched by SKU, listed and pushed; a SKU the hub lacks is shown unmatched."""
    ws, connection = woo_shop.ws, woo_shop.connection
    [pid] = woo_shop.control.post("/_sandbox/seed", json={
        "products": 1, "variable_every": 1}).json()["product_ids"]
    variations = {woo_shop.store.variations[v]["sku"]: v
                  for v in woo_shop.store.products[pid]["variations"]}
    assert set(variations) == {"SB-00004-S", "SB-00004-M", "SB-00004-L"}
    unknown_stock = woo_shop.stock(variations["SB-00004-L"])
    woo_shop.control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})
    [created] = woo_shop.receiver.events()[woo_shop.relayed:]
    body = json.loads(created.body)
    assert created.headers["X-WC-Webhook-Topic"] == "product.created"
    assert body["type"] == "variable" and body["variations"] == sorted(variations.values())

    woo_shop.deliver_until(lambda: woo_shop.stock(variations["SB-00004-M"]) == 5)

    listings = _listings(ws, connection)
    for sku in ("SB-00004-S", "SB-00004-M"):
        vid = variations[sku]
        assert (listings[sku].external_product_id, listings[sku].external_variant_id,
                listings[sku].inventory_item_id) == (str(pid), str(vid), f"{pid}/{vid}")
    assert f"GET /wp-json/wc/v3/products/{pid}/variations" in (
        woo_shop.control.get("/_sandbox/state").json()["calls"])
    assert woo_shop.stock(variations["SB-00004-S"]) == 3  # the hub's quantities
    assert woo_shop.stock(variations["SB-00004-L"]) == unknown_stock  # never listed
    unmatched = _unmatched(ws, connection)
    assert {k: v for k, v in unmatched.items() if k.startswith("SB-00004")} == {
        "SB-00004-L": initial.UNKNOWN_SKU}
    with workspace_scope(ws):
        assert AuditEvent.objects.filter(action="listing.linked").count() == 2


def test_a_variable_product_the_store_fails_to_read_is_retried_not_dropped(woo_shop):
    ws, connection = woo_shop.ws, woo_shop.connection
    woo_shop.control.post("/_sandbox/faults", json={"error_count": 1, "error_status": 503})
    [pid] = woo_shop.control.post("/_sandbox/seed", json={
        "products": 1, "variable_every": 1}).json()["product_ids"]
    woo_shop.deliver()  # the variations read answers 503: the job fails, to be retried

    [event] = [e for e in _events(ws, connection, "product.created")
               if e.resource_id == str(pid)]
    assert event.state == InboxState.RECEIVED
    assert "SB-00004-S" not in _listings(ws, connection)

    assert inbox.inbox_process(workspace_id=ws, inbox_id=event.id) == InboxState.PROCESSED
    assert {"SB-00004-S", "SB-00004-M"} <= set(_listings(ws, connection))


def test_a_new_woocommerce_variation_is_listed_from_its_own_body(woo_shop):
    """A variation added to a listed parent arrives as its own body (type variation): it is
    matched without unlinking its siblings."""
    ws, connection = woo_shop.ws, woo_shop.connection
    parent = next(p for p in woo_shop.store.products.values() if p["type"] == "variable")
    siblings = len(_listings(ws, connection))
    answer = woo_shop.api.post(f"/products/{parent['id']}/variations", json={
        "sku": "HUB-WOO-V-S", "regular_price": "899.00", "manage_stock": True,
        "stock_quantity": 12, "attributes": [{"name": "Size", "option": "XL"}]})
    vid = answer.json()["id"]

    woo_shop.deliver_until(lambda: woo_shop.stock(vid) == 3)

    listing = _listings(ws, connection)["HUB-WOO-V-S"]
    assert listing.inventory_item_id == f"{parent['id']}/{vid}"
    assert len(_listings(ws, connection)) == siblings + 1
    with workspace_scope(ws):
        assert not AuditEvent.objects.filter(action="listing.unlinked").exists()


def test_an_older_woocommerce_update_arriving_late_is_skipped(woo_shop):
    ws, connection = woo_shop.ws, woo_shop.connection
    (sku_a, id_a), _ = sorted(woo_shop.ids.items())
    woo_shop.control.post("/_sandbox/faults", json={"webhook_reorder": True})
    woo_shop.api.put(f"/products/{id_a}", json={"sku": "HUB-WOO-NEW"})
    woo_shop.control.post("/_sandbox/clock", json={"advance_s": 5})
    woo_shop.api.put(f"/products/{id_a}", json={"sku": "HUB-WOO-OTHER"})

    woo_shop.control.post("/_sandbox/webhooks/flush", json={"timeout_s": 10})
    newer, older = woo_shop.receiver.events()[woo_shop.relayed:][:2]  # newest first
    assert [json.loads(d.body)["sku"] for d in (newer, older)] == ["HUB-WOO-OTHER",
                                                                   "HUB-WOO-NEW"]
    assert relay([newer, older], connection) == [200, 200]
    woo_shop.relayed += 2

    listings = _listings(ws, connection)
    assert "HUB-WOO-OTHER" in listings and "HUB-WOO-NEW" not in listings
    assert sku_a not in listings
    woo_shop.deliver_until(lambda: woo_shop.stock(id_a) == 8)
    assert woo_shop.stock(id_a) == 8  # HUB-WOO-OTHER's, never HUB-WOO-NEW's 3
    updates = [e for e in _events(ws, connection, "product.updated")
               if e.resource_id == str(id_a)]
    skipped = [e for e in updates if e.state == InboxState.SKIPPED]
    assert len(skipped) == 1 and skipped[0].error.startswith("stale:")
    with workspace_scope(ws):
        assert not AuditEvent.objects.filter(action="listing.linked",
                                             detail__sku="HUB-WOO-NEW").exists()


def test_an_older_shopify_update_arriving_late_is_skipped(shop, shopify, shopify_receiver):
    ws, connection, product, skus, _ = shop
    variant = shopify.shop.variant_by_sku(skus[0])
    start = product.updated_at
    variant.sku, product.updated_at = "HUB-ONLY-1", start + timedelta(seconds=10)
    older = payloads.product(product, shopify.shop)
    variant.sku, product.updated_at = skus[0], start + timedelta(seconds=20)
    newer = payloads.product(product, shopify.shop)

    _deliver(shopify, shopify_receiver, connection, "products/update", newer)
    _deliver(shopify, shopify_receiver, connection, "products/update", older)

    assert set(_listings(ws, connection)) == set(skus)  # HUB-ONLY-1 never linked
    first, second = _events(ws, connection, "products/update")
    assert first.state == InboxState.PROCESSED
    assert second.state == InboxState.SKIPPED and "older" in second.error
    with workspace_scope(ws):
        assert not AuditEvent.objects.filter(action="listing.unlinked").exists()

    # A later change still applies.
    variant.sku, product.updated_at = "HUB-ONLY-1", start + timedelta(seconds=30)
    _deliver(shopify, shopify_receiver, connection, "products/update",
             payloads.product(product, shopify.shop))
    assert set(_listings(ws, connection)) == {"HUB-ONLY-1", skus[1]}
