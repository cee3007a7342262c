"""Order list API latency with a million orders (PostgreSQL).

BENCH-ONLY LOADING: the orders are not created through ``order_create`` (a million of them
would take hours); they are written straight into the tables with ``generate_series``, with
UUIDv7-shaped ids in time order as the application makes them, three lines each, and no
personal data. The newest orders (``--recent``, the ones the first pages show) are written
with ``bulk_create`` so that their buyer fields hold real ciphertext under the workspace key,
and listing them decrypts and audits as in production. Then ``GET /api/v1/orders`` is called
through Django's test client (the whole middleware and auth stack, no network), with and
without filters, and p50 / p99 are reported. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import system_scope, workspace_scope  # noqa: E402
from storesync.inventory.services import location_create  # noqa: E402
from storesync.orders.models import Order, OrderLine  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402
from storesync.security.tokens import token_create  # noqa: E402

ACTOR = Actor.system("bench")
DAY_MS = 86_400_000

# One statement per table. Orders spread over the last two years before the recent ones,
# newest with the highest number; statuses and sources in realistic proportions.
ORDERS_SQL = """
INSERT INTO orders_order (id, workspace_id, number, source, external_id, email_bidx,
  ship_province_code, ship_country_code, buyer_gstin, currency, prices_include_tax,
  subtotal_minor, discount_minor, shipping_minor, tax_minor, total_minor, financial_status,
  fulfillment_status, placed_at, cancelled_at, cancel_reason, version, created_at, updated_at,
  name, refunded_minor, needs_attention, attention_reasons)
SELECT (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(g %% 4096), 3, '0') || '8'
        || lpad(to_hex((g / 4096) %% 4096), 3, '0') || lpad(to_hex(g), 12, '0'))::uuid,
  %(ws)s, 1000 + g,
  (ARRAY['shopify','shopify','shopify','woocommerce','woocommerce','manual'])[1 + g %% 6],
  '', NULL, (ARRAY['MH','KA','DL','TN','GJ','WB','UP','HR'])[1 + g %% 8], 'IN', '', 'INR',
  true, 150000, 0, 0, 7143, 150000,
  CASE WHEN g %% 50 = 0 THEN 'refunded' WHEN g %% 3 = 0 THEN 'pending' ELSE 'paid' END,
  CASE WHEN g > %(n)s - 2000 THEN 'unfulfilled' ELSE 'fulfilled' END,
  to_timestamp(ms / 1000.0), CASE WHEN g %% 40 = 0 THEN to_timestamp(ms / 1000.0) END,
  CASE WHEN g %% 40 = 0 THEN 'customer' ELSE '' END, 1,
  to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0), '', 0, false, '[]'::jsonb
FROM (SELECT g, %(start_ms)s::bigint + (g::bigint * %(span_ms)s::bigint / %(n)s) AS ms
      FROM generate_series(1, %(n)s) AS g) AS s
"""
LINES_SQL = """
INSERT INTO orders_orderline (id, workspace_id, order_id, variant_id, location_id, sku, title,
  quantity, unit_price_minor, discount_minor, hsn_code, tax_rate_bp, taxable_minor, cgst_minor,
  sgst_minor, igst_minor, fulfilled_quantity, position, external_id, holds_stock,
  refunded_quantity, removed_quantity, restocked_quantity)
SELECT gen_random_uuid(), o.workspace_id, o.id, NULL, %(location)s, 'SKU-' || p, 'Kurta ' || p,
  1, 50000, 0, '6211', 500, 47619, 0, 0, 2381, 1, p, '', true, 0, 0, 0
FROM orders_order o CROSS JOIN generate_series(1, 3) AS p WHERE o.workspace_id = %(ws)s
"""


def load(ws, location_id, orders: int, recent: int) -> None:
    now = timezone.now()
    bulk = orders - recent
    start_ms = int((now - timedelta(days=730)).timestamp() * 1000)
    span_ms = 700 * DAY_MS  # ends before the recent orders begin
    with connection.cursor() as cursor:
        cursor.execute(ORDERS_SQL, {"ws": ws, "n": bulk, "start_ms": start_ms,
                                    "span_ms": span_ms})
        cursor.execute(LINES_SQL, {"ws": ws, "location": location_id})
    rows, lines = [], []
    for i in range(recent):
        placed = now - timedelta(seconds=(recent - i) * 60)
        order = Order(workspace_id=ws, number=1000 + bulk + 1 + i, source="shopify",
                      email=f"buyer{i}@example.com", ship_name=f"Buyer {i}",
                      ship_line1=f"{i} MG Road", ship_city="Pune", ship_postcode="411001",
                      ship_phone=f"+9198{i:08d}", ship_province_code="MH",
                      ship_country_code="IN", currency="INR", total_minor=150000,
                      financial_status="paid", placed_at=placed)
        order.id = _uuid7_at(placed, i)
        rows.append(order)
        lines += [OrderLine(workspace_id=ws, order=order, location_id=location_id,
                            sku=f"SKU-{p}", title=f"Kurta {p}", quantity=1,
                            unit_price_minor=50000, hsn_code="6211", tax_rate_bp=500,
                            taxable_minor=47619, sgst_minor=1190, cgst_minor=1191, position=p)
                  for p in (1, 2, 3)]
    with workspace_scope(ws), transaction.atomic():
        Order.objects.bulk_create(rows, batch_size=2000)
        OrderLine.objects.bulk_create(lines, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE orders_order")
        cursor.execute("VACUUM ANALYZE orders_orderline")


def _uuid7_at(moment, counter: int):
    import uuid

    ms = int(moment.timestamp() * 1000)
    value = (ms << 80) | (0x7 << 76) | ((counter & 0xFFF) << 64) | (0x2 << 62) | counter
    return uuid.UUID(int=value)


SCENARIOS = {
    "first page": "",
    "source=woocommerce": "source=woocommerce",
    "unfulfilled": "fulfillment_status=unfulfilled",
    "refunded": "financial_status=refunded",
    "one day, a year ago": "placed_from={year_ago}&placed_to={year_ago_next}",
    "page 200 (cursor)": "cursor={deep}",
}


def measure(client: Client, token: str, query: str, requests: int,
            cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds per request; the web process's CPU milliseconds go to ``cpu``."""
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    for _ in range(requests):
        start, cpu_start = time.perf_counter(), time.process_time()
        response = client.get(f"/api/v1/orders?{query}", headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - cpu_start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{query}: HTTP {response.status_code} {response.content[:300]!r}")
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _workspace(args: argparse.Namespace) -> tuple[object, float | None]:
    """The bench workspace: loaded now, or with ``--reuse`` the one a previous run loaded
    into this database (to compare code or indexes on the same rows; load_s is then None)."""
    from storesync.core.models import Workspace

    existing = Workspace.objects.filter(slug="bench").first()
    if existing is not None and args.reuse:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE orders_order")
        return existing.id, None
    created = workspace_create(slug="bench", name="Bench", owner_email="bench@example.com")
    ws = created.workspace.id
    location = location_create(workspace_id=ws, name="Bhiwandi", actor=ACTOR,
                               province_code="MH")
    start = time.perf_counter()
    with system_scope():  # the bulk SQL writes past row-level security, as a system job
        load(ws, location.id, args.orders, args.recent)
    return ws, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--recent", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the orders a previous run loaded into this database")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print(json.dumps({"database": connection.vendor, "skipped": "PostgreSQL only"}))
        return
    setup_test_environment()
    call_command("migrate", verbosity=0)
    ws, load_s = _workspace(args)
    tokens = {role: token_create(workspace_id=ws, name=role, role=role, actor=ACTOR).plaintext
              for role in ("owner", "viewer")}
    now = timezone.now()
    year_ago = (now - timedelta(days=365)).date()
    client = Client()
    client.get("/api/v1/orders", headers={"Authorization": f"Bearer {tokens['viewer']}"})
    gc.collect()
    gc.freeze()  # as storesync.wsgi and `storesync serve` do once the application is loaded
    deep = ""
    for _ in range(200):  # follow the cursor 200 pages down (10,000 orders)
        page = client.get(f"/api/v1/orders?cursor={deep}",
                          headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()
        deep = page["next_cursor"]
    results = {}
    for name, template in SCENARIOS.items():
        query = template.format(year_ago=f"{year_ago}T00:00:00Z",
                                year_ago_next=f"{year_ago + timedelta(days=1)}T00:00:00Z",
                                deep=deep)
        for role, token in tokens.items():
            measure(client, token, query, 5)  # warm caches
            cpu: list[float] = []
            times = measure(client, token, query, args.requests, cpu)
            results[f"{name} ({role})"] = {"p50": statistics.median(times),
                                           "p99": percentile(times, 0.99),
                                           "cpu_p50": statistics.median(cpu),
                                           "cpu_p99": percentile(cpu, 0.99)}
    with workspace_scope(ws):
        orders = Order.objects.count() if args.reuse else args.orders
    print(json.dumps({"database": connection.vendor, "orders": orders,
                      "recent_encrypted": args.recent, "requests": args.requests,
                      "load_s": load_s, "latency_ms": results}))


if __name__ == "__main__":
    main()
