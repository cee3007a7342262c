"""Privacy engine: access export and erasure of one typical subject (p50/p95), erasure of a
subject with 1,000 orders, and the retention sweep (records/s), on a workspace filled with
filler customers and orders (``privacy_load``). Run by ``bench/run.py --privacy`` in a
subprocess per database; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from privacy_load import copy_rows, copy_rows_per_parent, load_until  # noqa: E402
from storesync.catalog.services import ProductInput, VariantInput, product_create  # noqa: E402
from storesync.core.models import Workspace  # noqa: E402
from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import system_scope, workspace_scope  # noqa: E402
from storesync.customers.models import Customer  # noqa: E402
from storesync.customers.services import AddressInput, CustomerInput, customer_create  # noqa: E402
from storesync.inventory import services as inventory  # noqa: E402
from storesync.orders.checkouts import (  # noqa: E402
    CheckoutInput,
    CheckoutLineInput,
    abandoned_checkout_create,
)
from storesync.orders.models import AbandonedCheckout, Order, OrderLine  # noqa: E402
from storesync.orders.services import LineInput, OrderInput, PaymentInput, order_create  # noqa: E402
from storesync.privacy import deadlines, retention, services  # noqa: E402
from storesync.privacy.requests_models import DataSubjectRequest, RequestStatus  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402

ACTOR = Actor.system("bench")
FILLER_FIRST = 1_000_000  # filler order numbers start above this
BIG_FIRST = 900_000_000  # the 1,000-order subjects' copies start above this
ADDRESS = AddressInput(name="Bench Buyer", line1="1 Test Road", city="Pune", postcode="411001",
                       province_code="MH", phone="+91 98765 43210")


def _shop() -> tuple:
    created = workspace_create(slug="bench", name="Bench", owner_email="owner@bench.example")
    ws = created.workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Kurta", variants=[VariantInput(sku="K", price_minor=89900, tax_rate_bp=500,
                                              hsn_code="6206")]))
    with workspace_scope(ws):
        variant = product.variants.get()
    location = inventory.location_create(workspace_id=ws, name="Main", actor=ACTOR,
                                         province_code="MH")
    inventory.stock_receive(workspace_id=ws, variant_id=variant.id, location_id=location.id,
                            quantity=10_000_000, actor=ACTOR)
    return ws


def _subject(ws, n: int, orders: int, run: str = "") -> tuple[Customer, str]:
    email = f"subject.{run}{n}@example.com"
    customer = customer_create(workspace_id=ws, actor=ACTOR, data=CustomerInput(
        first_name="Bench", last_name=f"Subject{run}{n}", email=email, phone="+91 98765 43210",
        address=ADDRESS))
    for _ in range(orders):
        order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
            lines=[LineInput(sku="K", quantity=1)], shipping_address=ADDRESS, email=email,
            customer_id=customer.id, payments=[PaymentInput(kind="sale", amount_minor=89900)]))
    abandoned_checkout_create(workspace_id=ws, actor=ACTOR, data=CheckoutInput(
        lines=[CheckoutLineInput(sku="K", quantity=1, unit_price_minor=89900)],
        abandoned_at=timezone.now() - timedelta(days=1), email=email))
    return customer, email


def _fill(ws, template_customer: Customer, customers: int, orders_per: int,
          budget_s: float) -> dict[str, int]:
    """Filler customers and orders, COPY-style, until the counts or the time budget."""
    with workspace_scope(ws):
        template_order = Order.objects.filter(customer_id=template_customer.id).first()
    assert template_order is not None
    with workspace_scope(ws):
        template_lines = list(OrderLine.objects.filter(order_id=template_order.id)
                              .values_list("id", flat=True))
    started = time.perf_counter()
    with system_scope():
        # A reused database continues where the last load stopped.
        have_customers = Customer.objects.filter(workspace_id=ws).count()
        have_orders = Order.objects.filter(workspace_id=ws, number__gt=FILLER_FIRST,
                                           number__lt=BIG_FIRST).count()
        loaded_customers = have_customers + load_until(lambda offset, size: copy_rows(
            Customer, template_customer.id, size,
            {"id": "{uuid}", "email_bidx": "{random16}", "phone_bidx": "{random16}"}),
            total=max(customers - have_customers, 0), chunk=50_000, budget_s=budget_s / 3)
        order_total = max(min(loaded_customers, customers) * orders_per - have_orders, 0)

        def orders_step(offset: int, size: int) -> None:
            first = FILLER_FIRST + have_orders + offset
            copy_rows(Order, template_order.id, size, {
                "id": "{uuid}", "email_bidx": "{random16}",
                "number": f"{first} + s.i",
                # guest orders: linking each to a filler customer would need a join per row
                "customer_id": "NULL"})
            # Each filler order gets its template's lines (the subjects' orders have one).
            for line_id in template_lines:
                copy_rows_per_parent(OrderLine, line_id, Order,
                                     "p.number > %s AND p.number <= %s",
                                     [first, first + size], {"id": "{uuid}", "order_id": "p.id"})

        loaded_orders = have_orders + load_until(
            orders_step, total=order_total, chunk=100_000,
            budget_s=max(budget_s - (time.perf_counter() - started), 1))
    # Planner statistics, as autovacuum (PostgreSQL) or ``PRAGMA optimize`` (SQLite) keep them
    # in a running installation: without them SQLite's planner prefers the workspace index
    # to the blind-index and primary-key ones and scans the whole workspace.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with workspace_scope(ws):
        lines = OrderLine.objects.count()
    return {"customers": loaded_customers, "orders": loaded_orders, "order_lines": lines,
            "load_seconds": round(time.perf_counter() - started, 1)}


def _request(ws, subject: tuple[Customer, str], kind: str) -> DataSubjectRequest:
    customer, email = subject
    now = timezone.now()
    with workspace_scope(ws):
        return DataSubjectRequest.objects.create(
            workspace_id=ws, kind=kind, jurisdiction="gdpr", email=email,
            status=RequestStatus.IN_PROGRESS, verified_at=now,
            due_at=deadlines.due_at("gdpr", now), customer_ids=[str(customer.id)])


def _timed_runs(ws, subjects: list[tuple[Customer, str]], kind: str) -> list[float]:
    out = []
    for subject in subjects:
        request = _request(ws, subject, kind)
        started = time.perf_counter()
        services.dsr_run(workspace_id=ws, request_id=request.id)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _big_subject(ws, n_orders: int, run: str) -> tuple[Customer, str]:
    big = _subject(ws, 999_999, 1, run)
    with workspace_scope(ws):  # each run's copies above the previous runs' numbers
        run_offset = Order.objects.filter(number__gte=BIG_FIRST).count()
    with workspace_scope(ws):
        template = Order.objects.get(customer_id=big[0].id)
    with system_scope():
        copy_rows(Order, template.id, n_orders - 1, {
            "id": "{uuid}", "number": f"{BIG_FIRST} + {run_offset} + s.i"})  # above filler
    return big


def _sweep(ws, n: int) -> dict[str, float]:
    with workspace_scope(ws):
        template = AbandonedCheckout.objects.first()
    assert template is not None
    with system_scope():
        copy_rows(AbandonedCheckout, template.id, n, {
            "id": "{uuid}", "email_bidx": "{random16}", "external_id": "''",
            "abandoned_at": "'2020-01-01 00:00:00'" if connection.vendor == "sqlite"
            else "TIMESTAMPTZ '2020-01-01 00:00:00+00'"})
    started = time.perf_counter()
    reports = retention.retention_sweep(workspace_id=ws, apply=True, actor=ACTOR)
    seconds = time.perf_counter() - started
    disposed = sum(r.disposed for r in reports)
    return {"records": disposed, "seconds": round(seconds, 2),
            "per_second": round(disposed / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=int, default=10)
    parser.add_argument("--load-seconds", type=float, default=600)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--sweep", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true",
                        help="measure again on a database an earlier run filled (topping it "
                             "up to the counts asked for)")
    args = parser.parse_args()
    settings.HUEY.immediate = False
    call_command("migrate", verbosity=0)
    with system_scope():
        existing = Workspace.objects.filter(slug="bench").values_list("id", flat=True).first()
    if existing is not None and not args.reuse:
        raise SystemExit("the database already holds a bench workspace: pass --reuse")
    ws = existing or _shop()
    # Each run its own subjects (a reused database keeps the erased ones of earlier runs).
    run = f"r{int(time.time())}." if existing else ""
    subjects = [_subject(ws, n, 3, run) for n in range(args.samples * 2)]
    size = _fill(ws, subjects[0][0], args.customers, args.orders_per_customer, args.load_seconds)
    access = _timed_runs(ws, subjects[:args.samples], "access")
    erasure = _timed_runs(ws, subjects[args.samples:], "erasure")
    big = _big_subject(ws, 1000, run)
    started = time.perf_counter()
    _timed_runs(ws, [big], "erasure")
    big_ms = (time.perf_counter() - started) * 1000
    with workspace_scope(ws):
        left = Order.objects.filter(customer_id=big[0].id, email_bidx__isnull=False).count()
    assert left == 0, f"{left} orders of the 1,000-order subject still carry an email index"
    print(json.dumps({
        "database": connection.vendor if connection.vendor == "sqlite" else "postgres",
        "size": size, "samples": args.samples,
        "access_ms": {"p50": _pct(access, 0.5), "p95": _pct(access, 0.95)},
        "erasure_ms": {"p50": _pct(erasure, 0.5), "p95": _pct(erasure, 0.95)},
        "erasure_1000_orders_ms": round(big_ms, 1),
        "sweep": _sweep(ws, args.sweep),
    }))


if __name__ == "__main__":
    main()
