"""The demo's sales channels: a Shopify and a WooCommerce simulator served by ``storesync
serve --sandboxes`` (``make run``), connected to the demo workspace.

``storesync demo`` stores the two connections (``demo_connections_create``) with the
simulators' fixed credentials and ports. ``DemoChannels.start`` (called by ``serve``) starts
both simulators on threads, gives them the demo workspace's catalog (so SKUs agree; a hub
without a catalog gets the Shopify simulator's instead, through a first sync creating it),
runs each connection's first sync, registers the webhooks at ``STORESYNC_BASE_URL`` and then
places a small sale on one of them every so often, so orders arrive and stock moves.

Ports (loopback only): Shopify simulator ``SHOPIFY_PORT`` (8711), WooCommerce simulator
``WOO_PORT`` (8712).
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from storesync.catalog.models import Variant
from storesync.channels.initial import connection_initial_sync
from storesync.channels.models import Connection
from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from storesync.channels.sandbox.woocommerce.server import Running
from storesync.channels.sandbox.woocommerce.server import start as start_woo
from storesync.channels.services import connection_create, connection_subscribe
from storesync.core.logs import get_logger
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Location
from storesync.inventory.services import location_create
from storesync.security import audit

log = get_logger(__name__)

HOST = "127.0.0.1"
SHOPIFY_PORT = 8711
WOO_PORT = 8712
SHOPIFY_NAME = "Demo Shopify"
WOO_NAME = "Demo WooCommerce"
# Fixed, obviously fake credentials of the local simulators (nothing else accepts them).
SHOPIFY_TOKEN = Config.access_token
SHOPIFY_SECRET = Config.client_secret  # Shopify signs webhooks with the app's client secret
WOO_KEY, WOO_SECRET = "ck_demo_sandbox", "cs_demo_sandbox"
WOO_WEBHOOK_SECRET = "demo-woo-webhook-secret"
MAX_VARIANTS = 40  # of the hub's catalog put on each simulator
SALE_EVERY_S = (20.0, 60.0)
ACTOR = audit.Actor.system("demo")


def demo_connections_create(*, workspace_id: uuid.UUID,
                            shopify_url: str = f"http://{HOST}:{SHOPIFY_PORT}",
                            woo_url: str = f"http://{HOST}:{WOO_PORT}") -> list[Connection]:
    """The demo workspace's two connections to the local simulators (not verified: the
    simulators run inside ``storesync serve --sandboxes``, which may not be running yet)."""
    return [
        connection_create(workspace_id=workspace_id, platform="shopify", name=SHOPIFY_NAME,
                          credentials={"shop": shopify_url, "access_token": SHOPIFY_TOKEN},
                          webhook_secret=SHOPIFY_SECRET, actor=ACTOR),
        connection_create(workspace_id=workspace_id, platform="woocommerce", name=WOO_NAME,
                          credentials={"url": woo_url,
                                       "consumer_key": WOO_KEY,
                                       "consumer_secret": WOO_SECRET},
                          webhook_secret=WOO_WEBHOOK_SECRET, actor=ACTOR),
    ]


@dataclass
class DemoChannels:
    """The two running simulators and the thread that sells on them."""

    shopify: SandboxServer
    woo: Running
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, *, workspace_slug: str = "demo", shopify_port: int = SHOPIFY_PORT,
              woo_port: int = WOO_PORT, background: bool = True) -> DemoChannels:
        """Serve both simulators now; seed, sync and sell on a background thread (the first
        sync needs the web server up, for the webhooks it registers). Without
        ``background`` the caller runs ``prepare`` and ``sell_once`` itself (tests)."""
        shopify = SandboxServer(Config(), host=HOST, port=shopify_port).start()
        woo = start_woo(host=HOST, port=woo_port, consumer_key=WOO_KEY,
                        consumer_secret=WOO_SECRET)
        channels = cls(shopify, woo)
        if not background:
            return channels
        setup = threading.Thread(target=channels._setup, args=(workspace_slug,),
                                 name="demo-channels", daemon=True)
        channels.threads.append(setup)
        setup.start()
        return channels

    def close(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.shopify.close()
        self.woo.stop()

    # --- setup -------------------------------------------------------------------------------

    def _setup(self, slug: str) -> None:
        try:
            self.prepare(slug)
        except Exception:  # a demo that cannot set up must not take the server down
            log.exception("demo_channels_setup_failed")
            return
        self._sell_forever()

    def prepare(self, slug: str) -> dict[str, Any]:
        """Seed both simulators, first-sync both connections, register their webhooks.
        Returns the first syncs' summaries by platform (empty without a demo workspace)."""
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            log.warning("demo_channels_no_workspace", slug=slug)
            return {}
        with workspace_scope(workspace.id):
            connections = {c.platform: c for c in Connection.objects.filter(
                name__in=[SHOPIFY_NAME, WOO_NAME])}
        catalog = _hub_catalog(workspace.id)
        with workspace_scope(workspace.id):
            has_location = Location.objects.filter(is_active=True).exists()
        if not has_location:  # somewhere for the channels' stock to live
            location_create(workspace_id=workspace.id, name="Demo warehouse", actor=ACTOR)
        if not catalog:
            # No hub catalog yet: the Shopify simulator's becomes the hub's.
            self.shopify.shop.seed_catalog(products=6, variants_per_product=3, seed=1,
                                           stock=12)
        else:
            for title, variants in _by_title(catalog).items():
                self.shopify.shop.add_product(title, variants)
        summaries: dict[str, Any] = {}
        if "shopify" in connections:
            summaries["shopify"] = self._sync(connections["shopify"], create=not catalog)
        for variant in _hub_catalog(workspace.id):
            self.woo.sandbox.store.create_product({
                "name": variant[0], "type": "simple", "sku": variant[1],
                "regular_price": str(variant[2]), "manage_stock": True,
                "stock_quantity": variant[3]})
        if "woocommerce" in connections:
            summaries["woocommerce"] = self._sync(connections["woocommerce"], create=False)
        log.info("demo_channels_ready", shopify=self.shopify.url, woocommerce=self.woo.url)
        return summaries

    @staticmethod
    def _sync(connection: Connection, *, create: bool) -> dict[str, Any]:
        report = connection_initial_sync(workspace_id=connection.workspace_id,
                                         connection_id=connection.id, actor=ACTOR,
                                         create_missing=create)
        try:
            connection_subscribe(workspace_id=connection.workspace_id,
                                 connection_id=connection.id)
        except Exception:  # webhooks are an optimisation: reconciliation polls anyway
            log.exception("demo_channels_subscribe_failed", platform=connection.platform)
        return report.summary()

    # --- traffic -----------------------------------------------------------------------------

    def _sell_forever(self) -> None:
        rng = random.Random()  # noqa: S311 - demo traffic, not secrets
        with httpx.Client(timeout=10) as http:
            while not self.stop_event.wait(rng.uniform(*SALE_EVERY_S)):
                try:
                    self.sell_once(http, rng)
                except (httpx.HTTPError, ValueError):
                    log.warning("demo_sale_failed", exc_info=True)

    def sell_once(self, http: httpx.Client, rng: random.Random) -> str:
        """One sale of one or two units of an in-stock SKU on a random simulator; returns the
        SKU sold ("" when nothing is in stock there)."""
        if rng.random() < 0.5:
            shop = self.shopify.shop
            with shop.lock:
                skus = sorted({v.sku for v in shop.variants.values()
                               if shop.levels.get((v.inventory_item_id,
                                                   shop.default_location.id), 0) > 0})
            if not skus:
                return ""
            sku = rng.choice(skus)
            http.post(f"{self.shopify.url}/_sandbox/orders", json={
                "lines": [{"sku": sku, "quantity": 1}]}).raise_for_status()
            return sku
        store = self.woo.sandbox.store
        with store.lock:
            skus = sorted(p["sku"] for p in store.products.values()
                          if p.get("sku") and (p.get("stock_quantity") or 0) > 0)
        if not skus:
            return ""
        sku = rng.choice(skus)
        http.post(f"{self.woo.url}/_sandbox/orders", json={
            "line_items": [{"sku": sku, "quantity": 1}],
            "status": "processing"}).raise_for_status()
        return sku


def _hub_catalog(workspace_id: uuid.UUID) -> list[tuple[str, str, Decimal, int]]:
    """(product title, SKU, price, quantity the simulator starts with) of the hub's first
    ``MAX_VARIANTS`` variants by SKU."""
    with workspace_scope(workspace_id):
        variants = list(Variant.objects.select_related("product").order_by("sku")
                        [:MAX_VARIANTS])
    return [(v.product.title, v.sku, Decimal(v.price_minor).scaleb(-2), 10) for v in variants]


def _by_title(catalog: list[tuple[str, str, Decimal, int]]
              ) -> dict[str, list[tuple[str, Decimal, int]]]:
    grouped: dict[str, list[tuple[str, Decimal, int]]] = {}
    for title, sku, price, stock in catalog:
        grouped.setdefault(title, []).append((sku, price, stock))
    return grouped
