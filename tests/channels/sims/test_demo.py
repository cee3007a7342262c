"""Point 6: the demo's two simulators, seeded so SKUs agree with the hub, first-synced, and
selling; ``storesync demo`` creates the two connections."""

from __future__ import annotations

import random

import httpx
import pytest

from storesync.catalog.models import Listing, Variant
from storesync.channels import demo
from storesync.channels.models import Connection
from storesync.core.services import workspace_create
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.inventory.models import Level
from tests.channels.sims.conftest import base_of, cli, hub_catalog, point_webhooks_at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def channels():
    running = demo.DemoChannels.start(shopify_port=0, woo_port=0, background=False)
    yield running
    running.close()


def _demo_workspace(channels):
    created = workspace_create(slug="demo", name="Demo Store", owner_email="owner@demo.example")
    ws = created.workspace.id
    demo.demo_connections_create(workspace_id=ws, shopify_url=channels.shopify.url,
                                 woo_url=channels.woo.url)
    return ws


def test_the_demo_command_connects_the_demo_workspace_to_both_simulators(db):
    output = cli("demo", "--customers", "2", "--seed", "1")
    assert "8711" in output and "8712" in output
    with system_scope():
        names = set(Connection.objects.values_list("platform", "name"))
    assert names == {("shopify", demo.SHOPIFY_NAME), ("woocommerce", demo.WOO_NAME)}


def test_a_hub_catalog_is_put_on_both_simulators_and_listed(channels, shopify_receiver):
    ws = _demo_workspace(channels)
    hub_catalog(ws, {"DEMO-TEE-M": 6, "DEMO-TEE-L": 4, "DEMO-CAP": 0})
    undo = point_webhooks_at(base_of(shopify_receiver.url))
    try:
        summaries = channels.prepare("demo")
    finally:
        undo()

    assert summaries["shopify"]["listed"] == 3 and summaries["woocommerce"]["listed"] == 3
    assert not summaries["shopify"]["unmatched"] and not summaries["woocommerce"]["unmatched"]
    shop = channels.shopify.shop
    tee = shop.variant_by_sku("DEMO-TEE-M")
    assert shop.levels[(tee.inventory_item_id, shop.default_location.id)] == 6  # the hub's
    woo_stock = {p["sku"]: p["stock_quantity"] for p in
                 channels.woo.sandbox.store.products.values()}
    assert woo_stock == {"DEMO-TEE-M": 6, "DEMO-TEE-L": 4, "DEMO-CAP": 0}

    with httpx.Client(timeout=10) as http:
        sold = channels.sell_once(http, random.Random(3))
    assert sold in {"DEMO-TEE-M", "DEMO-TEE-L"}  # never the SKU out of stock


def test_an_empty_hub_gets_the_shopify_simulators_catalog(channels):
    ws = _demo_workspace(channels)
    undo = point_webhooks_at("http://127.0.0.1:9")  # nobody listens: deliveries just fail
    try:
        summaries = channels.prepare("demo")
    finally:
        undo()
    assert summaries["shopify"]["created"] == 18  # 6 products of 3 variants
    assert summaries["woocommerce"]["listed"] == 18
    with workspace_scope(ws):
        assert Variant.objects.count() == 18
        assert Listing.objects.count() == 36
        assert sum(Level.objects.values_list("on_hand", flat=True)) == 18 * 12
