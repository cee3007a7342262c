"""The channel sync engine with both simulated channels, over real HTTP on 127.0.0.1. Run by
``bench/run.py --only channels`` in a subprocess per database; prints one JSON object.

- fan-out: N SKUs listed on Shopify and WooCommerce all change at once in the hub; the time
  until both simulators show the hub's quantities, with one dispatcher per connection (as two
  workers run them), against the floor set by each platform's rate limit and batch size.
- latency: one sale on Shopify (simulators answering in ``--latency-ms``) to the new quantity
  on WooCommerce, through the webhook, reconciliation, the hub's reservation and the push.
- intake: webhooks acknowledged per second by ``POST /webhooks/shopify/<id>`` under waitress
  (as ``storesync serve`` runs it; processing queued, not run), and orders per second end to
  end (the same deliveries processed inline: reconciliation, order, reservation, pushes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection as db  # noqa: E402
from django.db import transaction  # noqa: E402
from waitress.server import create_server  # noqa: E402

from storesync.catalog.listings import (  # noqa: E402
    ListingInput,
    listing_create,
    listing_record_channel_quantities,
)
from storesync.catalog.services import ProductInput, VariantInput, product_create  # noqa: E402
from storesync.channels import dispatcher  # noqa: E402
from storesync.channels.connectors.woocommerce.connector import LOCATION_ID  # noqa: E402
from storesync.channels.sandbox.shopify.server import Config, SandboxServer  # noqa: E402
from storesync.channels.sandbox.shopify.state import gid  # noqa: E402
from storesync.channels.sandbox.woocommerce import server as woo_server  # noqa: E402
from storesync.channels.services import connection_create, location_mapping_add  # noqa: E402
from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import workspace_scope  # noqa: E402
from storesync.inventory.services import location_create, stock_receive  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402

ACTOR = Actor.system("bench")
WOO_KEY, WOO_SECRET, WOO_HOOK = "ck_bench_0123", "cs_bench_0123", "woo-bench-webhook-secret"
WOO_RATE = 5.0  # requests/s: the connector's default pacing, and the simulator's limit
WOO_BURST = 10.0  # the connector's bucket
SHOPIFY_PLAN = "standard"


class Setup:
    """Simulators with ``n`` one-variant products each (same SKUs), a hub with those SKUs,
    both connections, mappings and listings (the channels known to show 0)."""

    def __init__(self, n: int, *, latency_ms: int = 0, woo_rate: float = WOO_RATE) -> None:
        self.shopify = SandboxServer(Config(plan=SHOPIFY_PLAN, latency_ms=latency_ms,
                                            webhook_retry_base_s=0.2)).start()
        self.woo = woo_server.start(port=0, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET,
                                    rate_limit=woo_rate, latency_ms=latency_ms)
        shop = self.shopify.shop
        products = shop.seed_catalog(products=n, variants_per_product=1, seed=1, stock=0)
        variants = [shop.variants[p.variant_ids[0]] for p in products]
        self.skus = [v.sku for v in variants]
        woo_ids = [self.woo.sandbox.store.create_product(
            {"name": f"P {v.sku}", "sku": v.sku, "regular_price": "499.00",
             "manage_stock": True, "stock_quantity": 0}) for v in variants]
        self.ws = workspace_create(slug=f"bench-{uuid.uuid4().hex[:8]}", name="Bench",
                                   owner_email="owner@bench.example").workspace.id
        hub_variants: dict[str, uuid.UUID] = {}
        for start in range(0, n, 100):
            product = product_create(workspace_id=self.ws, actor=ACTOR, data=ProductInput(
                title=f"Bench {start}", options=["Item"], variants=[
                    VariantInput(sku=sku, price_minor=49900, options=[sku], hsn_code="6109",
                                 tax_rate_bp=500)
                    for sku in self.skus[start:start + 100]]))
            with workspace_scope(self.ws):
                hub_variants.update({v.sku: v.id for v in product.variants.all()})
        self.variants = hub_variants
        self.location = location_create(workspace_id=self.ws, name="Warehouse",
                                        actor=ACTOR).id
        self.shopify_conn = connection_create(
            workspace_id=self.ws, platform="shopify", name="Shopify",
            credentials={"shop": self.shopify.url,
                         "access_token": self.shopify.config.access_token,
                         "client_secret": self.shopify.config.client_secret},
            webhook_secret=self.shopify.config.client_secret, actor=ACTOR)
        self.woo_conn = connection_create(
            workspace_id=self.ws, platform="woocommerce", name="Woo",
            credentials={"url": self.woo.url, "consumer_key": WOO_KEY,
                         "consumer_secret": WOO_SECRET, "webhook_secret": WOO_HOOK,
                         "requests_per_s": woo_rate},
            webhook_secret=WOO_HOOK, actor=ACTOR)
        shop_location = gid("Location", shop.default_location.id)
        location_mapping_add(workspace_id=self.ws, connection_id=self.shopify_conn.id,
                             channel_location_id=shop_location, location_id=self.location)
        location_mapping_add(workspace_id=self.ws, connection_id=self.woo_conn.id,
                             channel_location_id=LOCATION_ID, location_id=self.location)
        shown: dict[uuid.UUID, int] = {}
        with workspace_scope(self.ws), transaction.atomic():
            for variant, woo_id in zip(variants, woo_ids, strict=True):
                hub_id = hub_variants[variant.sku]
                for data in (
                    ListingInput(variant_id=hub_id, connection_id=self.shopify_conn.id,
                                 external_product_id=gid("Product", variant.product_id),
                                 external_variant_id=gid("ProductVariant", variant.id),
                                 inventory_item_id=gid("InventoryItem",
                                                       variant.inventory_item_id),
                                 channel_location_id=shop_location),
                    ListingInput(variant_id=hub_id, connection_id=self.woo_conn.id,
                                 external_product_id=str(woo_id),
                                 external_variant_id=str(woo_id),
                                 inventory_item_id=str(woo_id),
                                 channel_location_id=LOCATION_ID)):
                    shown[listing_create(workspace_id=self.ws, data=data, actor=ACTOR).id] = 0
        listing_record_channel_quantities(workspace_id=self.ws, quantities=shown, pushed=False)

    def shopify_qty(self, sku: str) -> int:
        shop = self.shopify.shop
        variant = shop.variant_by_sku(sku)
        assert variant is not None
        return int(shop.levels[(variant.inventory_item_id, shop.default_location.id)])

    def woo_quantities(self) -> dict[str, int]:
        store = self.woo.sandbox.store
        with store.lock:
            return {p["sku"]: int(p["stock_quantity"] or 0) for p in store.products.values()}

    def close(self) -> None:
        self.shopify.close()
        self.woo.stop()


def fanout(n: int) -> dict[str, Any]:
    settings.HUEY.immediate = False  # the change only queues; the dispatchers are timed
    setup = Setup(n)
    try:
        with workspace_scope(setup.ws), transaction.atomic():
            for sku in setup.skus:
                stock_receive(workspace_id=setup.ws, variant_id=setup.variants[sku],
                              location_id=setup.location, quantity=7, actor=ACTOR)
        settings.HUEY.flush()
        shopify_calls = setup.shopify.stats["requests"]
        started = time.perf_counter()
        finished: dict[str, float] = {}

        def drain(name: str, connection_id: uuid.UUID) -> None:
            for _ in range(100):  # bounded: each drain pushes up to 50 batches
                report = dispatcher.drain_connection(workspace_id=setup.ws,
                                                     connection_id=connection_id)
                if report.retry_at is None and not report.skipped:
                    break
                time.sleep(0.2)
            finished[name] = time.perf_counter() - started
            db.close()

        threads = [threading.Thread(target=drain, args=("shopify", setup.shopify_conn.id)),
                   threading.Thread(target=drain, args=("woocommerce", setup.woo_conn.id))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=3600)
        elapsed = time.perf_counter() - started
        woo = setup.woo_quantities()
        agree = all(woo[s] == 7 and setup.shopify_qty(s) == 7 for s in setup.skus)
        woo_calls = -(-n // 100)
        woo_floor = max(woo_calls - WOO_BURST, 0) / WOO_RATE
        shopify_calls_min = -(-n // 250)
        bucket = setup.shopify.bucket
        shopify_floor = max(shopify_calls_min * 10 - bucket.maximum, 0) / bucket.restore_rate
        return {"skus": n, "seconds": elapsed, "agree": agree, "per_channel_s": finished,
                "shopify_calls": setup.shopify.stats["requests"] - shopify_calls,
                "shopify_throttled": setup.shopify.stats["throttled"],
                "woo_calls_min": woo_calls, "shopify_calls_min": shopify_calls_min,
                "floor_s": max(woo_floor, shopify_floor), "woo_floor_s": woo_floor,
                "shopify_floor_s": shopify_floor}
    finally:
        setup.close()
        settings.HUEY.immediate = True


def _serve() -> tuple[Any, str]:
    from django.core.wsgi import get_wsgi_application

    server = create_server(get_wsgi_application(), host="127.0.0.1", port=0, threads=4,
                           ident="storesync")
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def _subscribe(setup: Setup, base: str) -> None:
    from storesync.channels.services import connection_subscribe

    settings.CONFIG = _replace_base(base)
    for conn in (setup.shopify_conn, setup.woo_conn):
        connection_subscribe(workspace_id=setup.ws, connection_id=conn.id)


def _replace_base(base: str) -> Any:
    import dataclasses

    return dataclasses.replace(settings.CONFIG, base_url=base)


def latency(samples: int, latency_ms: int) -> dict[str, Any]:
    settings.HUEY.immediate = True
    server, base = _serve()
    setup = Setup(4, latency_ms=latency_ms, woo_rate=100.0)
    try:
        _subscribe(setup, base)
        sku = setup.skus[0]
        stock_receive(workspace_id=setup.ws, variant_id=setup.variants[sku],
                      location_id=setup.location, quantity=samples + 10, actor=ACTOR)
        _wait(lambda: setup.woo_quantities()[sku] == samples + 10, 60)
        times = []
        with httpx.Client(timeout=30) as http:
            for n in range(samples):
                expected = samples + 10 - n - 1
                started = time.perf_counter()
                http.post(f"{setup.shopify.url}/_sandbox/orders",
                          json={"lines": [{"sku": sku, "quantity": 1}]}).raise_for_status()
                _wait(lambda e=expected: setup.woo_quantities()[sku] == e, 30)
                times.append(time.perf_counter() - started)
                time.sleep(0.2)
        times.sort()
        return {"samples": samples, "latency_ms": latency_ms,
                "p50_s": statistics.median(times),
                "p95_s": times[min(len(times) - 1, int(len(times) * 0.95))]}
    finally:
        setup.close()
        server.close()


def _wait(check: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.005)
    raise SystemExit(f"timed out after {timeout_s} s")


def _deliveries(setup: Setup, orders: int) -> list[tuple[bytes, dict[str, str]]]:
    """``orders`` sales on Shopify, their orders/create webhooks kept instead of sent."""
    kept: list[tuple[bytes, dict[str, str]]] = []

    def keep(delivery: Any, delay_s: float = 0.0) -> None:
        if delivery.topic == "orders/create":
            kept.append((delivery.body, dict(delivery.headers)))

    setup.shopify.deliverer._enqueue = keep  # type: ignore[method-assign]
    with httpx.Client(timeout=30) as http:
        for n in range(orders):
            http.post(f"{setup.shopify.url}/_sandbox/orders",
                      json={"lines": [{"sku": setup.skus[n % len(setup.skus)],
                                       "quantity": 1}]}).raise_for_status()
    return kept


def _post_all(url: str, deliveries: list[tuple[bytes, dict[str, str]]],
              threads: int = int(os.environ.get("BENCH_POSTERS", "4"))) -> float:
    def post(delivery: tuple[bytes, dict[str, str]]) -> None:
        body, headers = delivery
        with httpx.Client(timeout=120) as http:
            for _ in range(5):
                if http.post(url, content=body, headers=headers).status_code == 200:
                    return
        raise SystemExit("a webhook was not acknowledged")

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, deliveries))
    return time.perf_counter() - started


def intake(webhooks: int, orders: int) -> dict[str, Any]:
    server, base = _serve()
    setup = Setup(20, woo_rate=1000.0)
    setup.shopify.bucket.maximum = setup.shopify.bucket.restore_rate = 100_000.0
    try:
        _subscribe(setup, base)
        for sku in setup.skus:
            stock_receive(workspace_id=setup.ws, variant_id=setup.variants[sku],
                          location_id=setup.location, quantity=100_000, actor=ACTOR)
        url = f"{base}/webhooks/shopify/{setup.shopify_conn.id}"
        # Acknowledge only: processing is queued for a worker (none runs here).
        settings.HUEY.immediate = False
        deliveries = _deliveries(setup, webhooks)
        ack_s = _post_all(url, deliveries)
        settings.HUEY.flush()
        # End to end: new orders, each processed inline before its delivery is answered.
        settings.HUEY.immediate = True
        fresh = _deliveries(setup, orders)
        e2e_s = _post_all(url, fresh)
        from storesync.orders.models import Order

        with workspace_scope(setup.ws):
            stored = Order.objects.count()
        return {"webhooks": len(deliveries), "ack_per_s": len(deliveries) / ack_s,
                "orders": len(fresh), "orders_per_s": len(fresh) / e2e_s,
                "orders_stored": stored}
    finally:
        setup.close()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--parts", default="fanout,latency,intake")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from storesync.security import keyring

    keyring.reset()
    parts = set(args.parts.split(","))
    result: dict[str, Any] = {"database": db.vendor if db.vendor == "sqlite" else "postgres"}
    if "fanout" in parts:
        result["fanout"] = fanout(args.skus)
    if "latency" in parts:
        result["latency"] = latency(args.samples, args.latency_ms)
    if "intake" in parts:
        result["intake"] = intake(args.webhooks, args.orders)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
