"""Shopify sync throughput against the local sandbox; writes the ``shopify`` section of
docs/benchmarks.md.

    .venv/bin/python bench/shopify_sync.py [--products N] [--plan plus]

Real HTTP on 127.0.0.1, the documented cost rules and bucket of the chosen plan, the
connector's own pacing. No database is involved.
"""

from __future__ import annotations

import argparse
import sys
import time

from run import machine, write_section  # bench/run.py: shared section writer
from storesync.channels.connectors.base import PushOutcome, QuantityUpdate
from storesync.channels.connectors.shopify import Connector
from storesync.channels.ratelimit import LocalThrottle
from storesync.channels.sandbox.shopify.server import Config, SandboxServer


def measure(products: int, plan: str) -> dict[str, float]:
    server = SandboxServer(Config(plan=plan)).start()
    try:
        server.shop.seed_catalog(products=products, variants_per_product=3, seed=1)
        connector = Connector(credentials={"shop": server.url,
                                           "access_token": server.config.access_token},
                              throttle=LocalThrottle())
        figures: dict[str, float] = {}
        started = time.perf_counter()
        catalog = list(connector.import_catalog())
        figures["bulk_s"] = time.perf_counter() - started
        location = f"gid://shopify/Location/{server.shop.default_location.id}"
        updates = [QuantityUpdate(v.inventory_item_id, location, 5, 10)
                   for p in catalog for v in p.variants]
        before = server.stats["requests"]
        started = time.perf_counter()
        results = connector.push_quantities(updates)
        figures["push_s"] = time.perf_counter() - started
        figures["push_calls"] = server.stats["requests"] - before
        figures["pushed"] = sum(r.outcome is PushOutcome.OK for r in results)
        connector.bulk_threshold = products + 1
        started = time.perf_counter()
        figures["paged_products"] = sum(1 for _ in connector.import_catalog())
        figures["paged_s"] = time.perf_counter() - started
        figures["throttled"] = server.stats["throttled"]
        figures["variants"] = len(updates)
        return figures
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--plan", default="plus")
    args = parser.parse_args()
    f = measure(args.products, args.plan)
    body = (
        "## Shopify sync (sandbox)\n\n"
        f"Connector against the local Shopify sandbox on plan *{args.plan}*, "
        f"{args.products:,} products with {int(f['variants']):,} variants "
        "(`bench/shopify_sync.py`). Real HTTP on loopback, the documented query costs and "
        "bucket, the connector pacing itself from `throttleStatus`.\n\n"
        "| operation | time | rate |\n|---|---|---|\n"
        f"| catalog import, one bulk operation | {f['bulk_s']:.1f} s | "
        f"{args.products / f['bulk_s']:,.0f} products/s |\n"
        f"| catalog import, paged queries | {f['paged_s']:.1f} s | "
        f"{f['paged_products'] / f['paged_s']:,.0f} products/s |\n"
        f"| push {int(f['pushed']):,} quantities (compare-and-set) in "
        f"{int(f['push_calls'])} calls | {f['push_s']:.1f} s | "
        f"{f['pushed'] / f['push_s']:,.0f} quantities/s |\n\n"
        f"Throttled answers during the run: {int(f['throttled'])}. Measured {machine()}.\n")
    write_section("shopify", body)
    sys.stdout.write(body)


if __name__ == "__main__":
    main()
