"""Smart-collection membership: how long the database takes to evaluate a collection's rules
over N products (two variants each). Run by ``bench/run.py`` in a subprocess per database;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from storesync.catalog import collection_services, selectors  # noqa: E402
from storesync.catalog.models import Collection, Product, Variant  # noqa: E402
from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import workspace_scope  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402

ACTOR = Actor.system("bench")
TAGS = ("summer", "sale", "cotton", "silk", "wedding", "kids", "men", "women")
RULES = [{"column": "tag", "relation": "equals", "condition": "Summer"},
         {"column": "vendor", "relation": "equals", "condition": "weavers co"},
         {"column": "variant_price", "relation": "less_than", "condition": "1500.00"}]


def load(ws: uuid.UUID, n: int) -> None:
    """N products with two variants each, tags, vendors and prices drawn from a fixed seed."""
    rnd = random.Random(42)
    with workspace_scope(ws):
        products = [Product(workspace_id=ws, title=f"Product {i}", handle=f"product-{i}",
                            vendor=rnd.choice(("Weavers Co", "Print House", "Loom & Co")),
                            product_type=rnd.choice(("Kurta", "Saree", "Tee")),
                            tags=rnd.sample(TAGS, 3)) for i in range(n)]
        Product.objects.bulk_create(products, batch_size=2000)
        Variant.objects.bulk_create(
            [Variant(workspace_id=ws, product=p, sku=f"SKU-{i}-{j}",
                     price_minor=rnd.randrange(10_000, 500_000))
             for i, p in enumerate(products) for j in (1, 2)], batch_size=4000)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    fn()  # warm the caches once, untimed
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("migrate", "--run-syncdb", verbosity=0)
    ws = workspace_create(slug="bench", name="Bench", owner_email="bench@example.com").workspace.id
    load(ws, args.products)
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give
        cursor.execute("ANALYZE")
    collection = collection_services.collection_create(
        workspace_id=ws, actor=ACTOR, data=collection_services.CollectionInput(
            title="Summer at Weavers under 1500", kind="smart", rules=RULES))
    count_s, members = timed(lambda: selectors.collection_product_count(
        workspace_id=ws, collection=collection), args.repeat)
    newest_s, _ = timed(lambda: selectors.product_list(
        workspace_id=ws, collection_id=collection.id, limit=50), args.repeat)
    by_price: Collection = collection_services.collection_update(
        workspace_id=ws, collection_id=collection.id, expected_version=None,
        changes={"sort_order": "price-asc"}, actor=ACTOR)
    price_s, _ = timed(lambda: selectors.collection_product_page(
        workspace_id=ws, collection=by_price, limit=50), args.repeat)
    print(json.dumps({
        "database": connection.vendor, "products": args.products, "variants": args.products * 2,
        "rules": len(RULES), "members": members, "repeat": args.repeat,
        "ms": {"count": count_s * 1000, "page_newest": newest_s * 1000,
               "page_price_asc": price_s * 1000},
    }))


if __name__ == "__main__":
    main()
