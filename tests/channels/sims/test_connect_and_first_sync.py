"""Points 1 and 3: connecting both simulators from the CLI, and the first sync."""

from __future__ import annotations

import httpx
import pytest

from storesync.catalog.models import Listing, Variant
from storesync.channels import initial
from storesync.channels.models import UnmatchedVariant
from storesync.channels.services import webhook_address
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from tests.channels.sims.conftest import (
    ACTOR,
    WOO_WEBHOOK_SECRET,
    base_of,
    cli,
    connect_shopify,
    connect_woo,
    hub_catalog,
    point_webhooks_at,
    shopify_control,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _listings(ws, connection):
    with workspace_scope(ws):
        return {listing.variant.sku: listing for listing in Listing.objects.filter(
            connection_id=connection.id).select_related("variant")}


def _unmatched(ws, connection):
    with workspace_scope(ws):
        return {(u.sku, u.reason) for u in UnmatchedVariant.objects.filter(
            connection_id=connection.id)}


def test_connection_add_registers_webhooks_on_both_simulators(workspace, shopify, woo,
                                                              shopify_receiver):
    undo = point_webhooks_at(base_of(shopify_receiver.url))
    try:
        shop = connect_shopify(shopify)
        store = connect_woo(woo)
        shop_address, store_address = webhook_address(shop), webhook_address(store)
    finally:
        undo()
    assert shop_address == f"{base_of(shopify_receiver.url)}/webhooks/shopify/{shop.id}"
    subscriptions = shopify.shop.subscriptions.values()
    assert subscriptions and {s.uri for s in subscriptions} == {shop_address}
    # WooCommerce signs deliveries with the secret given at registration: the connection's.
    hooks = list(woo.sandbox.store.webhooks.values())
    assert hooks and {hook["secret"] for hook in hooks} == {WOO_WEBHOOK_SECRET}
    assert {hook["delivery_url"] for hook in hooks} == {store_address}


def test_refused_credentials_store_nothing(workspace, shopify):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="credentials"):
        cli("connection", "add", "shopify", "--workspace", "acme", "--name", "bad",
            "--webhook-secret", "x" * 20, "--shop", shopify.url, "--access-token", "wrong")
    assert "bad" not in cli("connection", "list", "--workspace", "acme")


def test_shopify_first_sync_matches_by_sku_and_lists_the_rest(workspace, shopify):
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 2, "variants_per_product": 3, "stock": 7})
    shop = connect_shopify(shopify)
    channel_skus = sorted(v.sku for v in shopify.shop.variants.values())
    known = channel_skus[:2]
    hub_catalog(ws, dict.fromkeys(known, 4))

    report = initial.connection_initial_sync(workspace_id=ws, connection_id=shop.id,
                                             actor=ACTOR)

    assert report.variants == 6 and report.listed == 2 and report.created == 0
    listings = _listings(ws, shop)
    assert sorted(listings) == known
    assert all(listing.channel_location_id.startswith("gid://shopify/Location/")
               for listing in listings.values())
    assert _unmatched(ws, shop) == {(sku, initial.UNKNOWN_SKU) for sku in channel_skus[2:]}
    # The first push set the channel to the hub's quantity (4, not the channel's 7).
    for listing in listings.values():
        item = int(listing.inventory_item_id.rsplit("/", 1)[1])
        assert {q for (i, _), q in shopify.shop.levels.items() if i == item} >= {4}

    # Again, creating what the hub lacks: nothing is listed twice; the rest is created.
    again = initial.connection_initial_sync(workspace_id=ws, connection_id=shop.id,
                                            actor=ACTOR, create_missing=True)
    assert again.already_listed == 2 and again.created == 4 and not again.unmatched
    assert sorted(_listings(ws, shop)) == channel_skus
    with workspace_scope(ws):
        created = Variant.objects.get(sku=channel_skus[-1])
        assert sum(Level.objects.filter(variant=created).values_list("on_hand", flat=True)) == 7
    assert _unmatched(ws, shop) == set()


def test_duplicate_and_missing_skus_are_unmatched_with_the_reason(workspace, shopify):
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 3})
    first, second, third = sorted(shopify.shop.variants.values(), key=lambda v: v.id)
    second.sku = first.sku  # the merchant typed the same SKU twice
    shopify.shop.items[second.inventory_item_id].sku = first.sku
    third.sku = ""
    shopify.shop.items[third.inventory_item_id].sku = ""
    hub_catalog(ws, {first.sku: 3})
    shop = connect_shopify(shopify)

    report = initial.connection_initial_sync(workspace_id=ws, connection_id=shop.id,
                                             actor=ACTOR, create_missing=True, orders=False)

    assert report.listed == 0 and report.created == 0
    assert _listings(ws, shop) == {}
    assert _unmatched(ws, shop) == {(first.sku, initial.DUPLICATE_SKU),
                                    ("", initial.NO_SKU)}


def test_woocommerce_first_sync_from_the_cli_imports_recent_orders(workspace, woo, capsys):
    ws = workspace.workspace.id
    woo.sandbox.store.seed_catalog(products=4)
    store = connect_woo(woo)
    skus = sorted(p["sku"] for p in httpx.get(
        f"{woo.url}/wp-json/wc/v3/products", auth=(store_key(), store_secret()),
        timeout=10).json() if p.get("sku") and p.get("type") == "simple")
    hub_catalog(ws, dict.fromkeys(skus, 5))
    sale = httpx.post(f"{woo.url}/_sandbox/orders", timeout=10, json={
        "line_items": [{"sku": skus[0], "quantity": 2}], "status": "processing"})
    assert sale.status_code < 300, sale.text

    output = cli("connection", "sync", "--workspace", "acme", str(store.id), "--initial",
                 "--days", "30")

    assert "unmatched" in output and "orders: 1 applied" in output
    assert set(skus) <= set(_listings(ws, store))


def store_key() -> str:
    from tests.channels.sims.conftest import WOO_KEY

    return WOO_KEY


def store_secret() -> str:
    from tests.channels.sims.conftest import WOO_SECRET

    return WOO_SECRET


def test_a_product_made_again_on_the_channel_is_followed_by_the_next_first_sync(workspace,
                                                                               shopify):
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 2, "stock": 9})
    skus = sorted(v.sku for v in shopify.shop.variants.values())
    hub_catalog(ws, dict.fromkeys(skus, 4))
    shop = connect_shopify(shopify)
    initial.connection_initial_sync(workspace_id=ws, connection_id=shop.id, actor=ACTOR,
                                    orders=False)
    [old] = shopify.shop.products.values()
    httpx.delete(f"{shopify.url}/_sandbox/products/{old.id}", timeout=10).raise_for_status()
    from decimal import Decimal

    shopify.shop.add_product("Made again", [(sku, Decimal("10.00"), 0) for sku in skus])

    again = initial.connection_initial_sync(workspace_id=ws, connection_id=shop.id,
                                            actor=ACTOR, orders=False)

    assert again.already_listed == 2 and again.listed == 0 and not again.unmatched
    for sku in skus:
        variant = shopify.shop.variant_by_sku(sku)
        assert _listings(ws, shop)[sku].external_variant_id.endswith(f"/{variant.id}")
        assert shopify.shop.levels[(variant.inventory_item_id,
                                    shopify.shop.default_location.id)] == 4
