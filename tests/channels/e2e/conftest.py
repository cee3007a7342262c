"""Both simulators in-process, a live Django server receiving their webhooks, and a hub
catalog listed on both channels.

``hub`` builds: N products with one SKU each, the same SKUs in the Shopify sandbox and the
WooCommerce sandbox, one hub warehouse mapped to each channel's location, a connection per
platform whose webhooks point at ``live_server`` (``/webhooks/<platform>/<id>``), and a
listing per SKU per connection, found through each connector's own catalog import. Jobs run
inline (``HUEY.immediate``), so a webhook's processing, reconciliation and the pushes it
causes all happen before the simulator's delivery is answered.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from django.conf import settings

from storesync.catalog.listings import ListingInput
from storesync.catalog.models import Listing
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.channels.connectors.base import Connector
from storesync.channels.models import Connection
from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from storesync.channels.sandbox.woocommerce import server as woo_server
from storesync.channels.services import (
    connection_create,
    connection_subscribe,
    connector_for,
    listing_add,
    location_mapping_add,
)
from storesync.core.services import workspace_create
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from storesync.inventory.services import location_create, stock_receive
from storesync.security.audit import Actor

ACTOR = Actor.system("e2e")
WOO_KEY, WOO_SECRET = "ck_e2e_0123456789", "cs_e2e_abcdef0123"
WOO_HOOK_SECRET = "woo-e2e-webhook-secret-0123"
STOCK = 10


def wait_until(check: Callable[[], bool], *, timeout_s: float = 15.0,
               what: str = "condition") -> None:
    """Poll ``check`` (bounded in time) until it holds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@dataclass
class Hub:
    """The hub side and both channels of one end-to-end test."""

    workspace_id: uuid.UUID
    location_id: uuid.UUID
    skus: list[str]
    variants: dict[str, uuid.UUID]
    shopify: SandboxServer
    woo: woo_server.Running
    connections: dict[str, Connection]
    listings: dict[str, dict[str, Listing]] = field(default_factory=dict)  # platform -> sku

    # --- the channels as their shoppers see them -----------------------------------------

    def shopify_qty(self, sku: str) -> int:
        shop = self.shopify.shop
        with shop.lock:
            variant = shop.variant_by_sku(sku)
            assert variant is not None
            return int(shop.levels[(variant.inventory_item_id, shop.default_location.id)])

    def woo_qty(self, sku: str) -> int:
        store = self.woo.sandbox.store
        with store.lock:
            item = next(x for x in (*store.products.values(), *store.variations.values())
                        if x["sku"] == sku)
            return int(item["stock_quantity"] or 0)

    def level(self, sku: str) -> Level:
        with workspace_scope(self.workspace_id):
            return Level.objects.get(variant_id=self.variants[sku], location_id=self.location_id)

    def available(self, sku: str) -> int:
        level = self.level(sku)
        return max(level.on_hand - level.reserved - level.safety_buffer, 0)

    def shopify_control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.shopify.url}/_sandbox/{path}", json=body,
                                 timeout=30)
        assert response.status_code < 300, response.text
        return response.json()

    def woo_control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.woo.url}/_sandbox/{path}", json=body,
                                 timeout=30)
        assert response.status_code < 300, response.text
        return response.json()

    def connector(self, platform: str) -> Connector:
        return connector_for(self.connections[platform])


def _seed_channels(shopify: SandboxServer, woo: woo_server.Running, count: int) -> list[str]:
    products = shopify.shop.seed_catalog(products=count, variants_per_product=1, seed=5,
                                         stock=0)
    skus = [shopify.shop.variants[p.variant_ids[0]].sku for p in products]
    for sku in skus:
        woo.sandbox.store.create_product({"name": f"Product {sku}", "sku": sku,
                                          "regular_price": "499.00", "manage_stock": True,
                                          "stock_quantity": 0})
    return skus


def _list_everything(hub: Hub) -> None:
    for platform, connection in hub.connections.items():
        connector = hub.connector(platform)
        variants = {v.sku: (p, v) for p in connector.import_catalog() for v in p.variants}
        levels = connector.fetch_levels([variants[sku][1].inventory_item_id for sku in hub.skus])
        channel_location = levels[0].location_id
        location_mapping_add(workspace_id=hub.workspace_id, connection_id=connection.id,
                             channel_location_id=channel_location, location_id=hub.location_id)
        hub.listings[platform] = {}
        for sku in hub.skus:
            product, variant = variants[sku]
            hub.listings[platform][sku] = listing_add(
                workspace_id=hub.workspace_id, actor=ACTOR, data=ListingInput(
                    variant_id=hub.variants[sku], connection_id=connection.id,
                    external_product_id=product.external_id,
                    external_variant_id=variant.external_id,
                    inventory_item_id=variant.inventory_item_id,
                    channel_location_id=channel_location))
        connection_subscribe(workspace_id=hub.workspace_id, connection_id=connection.id)


def build_hub(base_url: str, *, count: int = 2, stock: int = STOCK,
              shopify_config: Config | None = None,
              woo_options: dict[str, Any] | None = None) -> Hub:
    """Simulators, a workspace with ``count`` SKUs (``stock`` on hand each), connections,
    mappings, listings and webhook subscriptions pointing at ``base_url``. Callers stop the
    simulators (``close_hub``)."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, base_url=base_url)
    shopify = SandboxServer(shopify_config or Config(webhook_retry_base_s=0.05)).start()
    woo = woo_server.start(port=0, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, seed=3,
                           **(woo_options or {}))
    skus = _seed_channels(shopify, woo, count)
    ws = workspace_create(slug=f"e2e-{uuid.uuid4().hex[:8]}", name="E2E Traders",
                          owner_email="owner@e2e.example").workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Sandbox goods", options=["Item"], variants=[
            VariantInput(sku=sku, price_minor=49900, options=[sku], hsn_code="6109",
                         tax_rate_bp=500) for sku in skus]))
    with workspace_scope(ws):
        variants = {v.sku: v.id for v in product.variants.all()}
    location = location_create(workspace_id=ws, name="Pune warehouse", actor=ACTOR)
    connections = {
        "shopify": connection_create(
            workspace_id=ws, platform="shopify", name="Shopify sandbox",
            credentials={"shop": shopify.url, "access_token": shopify.config.access_token,
                         "client_secret": shopify.config.client_secret},
            webhook_secret=shopify.config.client_secret, actor=ACTOR),
        "woocommerce": connection_create(
            workspace_id=ws, platform="woocommerce", name="Woo sandbox",
            credentials={"url": woo.url, "consumer_key": WOO_KEY,
                         "consumer_secret": WOO_SECRET, "webhook_secret": WOO_HOOK_SECRET},
            webhook_secret=WOO_HOOK_SECRET, actor=ACTOR),
    }
    hub = Hub(ws, location.id, skus, variants, shopify, woo, connections)
    _list_everything(hub)
    for sku in skus:
        if stock:
            stock_receive(workspace_id=ws, variant_id=variants[sku], location_id=location.id,
                          quantity=stock, actor=ACTOR)
    return hub


def close_hub(hub: Hub) -> None:
    hub.shopify.close()
    hub.woo.stop()


@pytest.fixture
def hub(live_server: Any) -> Iterator[Hub]:
    original = settings.CONFIG
    built = build_hub(live_server.url)
    yield built
    close_hub(built)
    settings.CONFIG = original
