"""Order creation throughput: orders of three lines through ``orders.services.order_create``
(numbering, pricing, GST, encrypted buyer data, stock reservations and ledger rows, one
transaction per order) against the floor: the same rows in the same tables written with
``bulk_create`` in one transaction, without services. Run by ``bench/run.py`` in a subprocess
per database; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings_bench")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from storesync.catalog.models import Variant  # noqa: E402
from storesync.catalog.services import ProductInput, VariantInput, product_create  # noqa: E402
from storesync.core.services import workspace_create  # noqa: E402
from storesync.core.tenancy import system_scope, workspace_scope  # noqa: E402
from storesync.customers.services import AddressInput  # noqa: E402
from storesync.inventory.models import (  # noqa: E402
    Level,
    Location,
    Movement,
    MovementKind,
    Reservation,
)
from storesync.inventory.services import location_create, stock_receive  # noqa: E402
from storesync.orders import gst  # noqa: E402
from storesync.orders.models import (  # noqa: E402
    FulfillmentOrder,
    Order,
    OrderCounter,
    OrderLine,
    Transaction,
)
from storesync.orders.services import (  # noqa: E402
    LineInput,
    OrderInput,
    PaymentInput,
    order_create,
)
from storesync.security.audit import Actor  # noqa: E402

ACTOR = Actor.system("bench")
VARIANTS = 60
STATES = ["MH", "KA", "DL", "TN", "GJ", "WB"]


def setup(ws) -> Location:
    location = location_create(workspace_id=ws, name="Bhiwandi", actor=ACTOR,
                               province_code="MH", country_code="IN")
    for p in range(VARIANTS // 3):
        product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
            title=f"Kurta {p}", options=["Size"], variants=[
                VariantInput(sku=f"K{p}-{s}", price_minor=49_900 + 10_000 * p, options=[s],
                             hsn_code="6211", tax_rate_bp=500) for s in ("S", "M", "L")]))
    with workspace_scope(ws):
        ids = list(Variant.objects.values_list("id", flat=True))
    for variant_id in ids:
        stock_receive(workspace_id=ws, variant_id=variant_id, location_id=location.id,
                      quantity=1_000_000, actor=ACTOR)
    return location


def inputs(n: int, seed: int) -> list[OrderInput]:
    rng = random.Random(seed)
    skus = [f"K{p}-{s}" for p in range(VARIANTS // 3) for s in ("S", "M", "L")]
    out = []
    for i in range(n):
        state = rng.choice(STATES)
        out.append(OrderInput(
            lines=[LineInput(sku=sku, quantity=rng.randint(1, 3))
                   for sku in rng.sample(skus, 3)],
            shipping_address=AddressInput(
                name=f"Buyer {i}", line1=f"{i} MG Road", city="Pune", postcode="411001",
                province_code=state, phone=f"+9198{i % 100_000_000:08d}"),
            email=f"buyer{i}@example.com", source="shopify", external_id=f"b{seed}-{i}",
            payments=[PaymentInput(kind="sale", amount_minor=1, gateway="razorpay")]))
    return out


def via_services(ws, data: list[OrderInput]) -> None:
    for item in data:
        order_create(workspace_id=ws, data=item, actor=ACTOR)


def floor(ws, location: Location, data: list[OrderInput], first_number: int) -> None:
    """The same rows (one fulfillment order per order too, as the services write), without
    services: no validation, locking or per-order queries."""
    with workspace_scope(ws):
        variants = {v.sku: v for v in Variant.objects.select_related("product")}
        levels = dict(Level.objects.filter(location=location).values_list("variant_id", "id"))
    now = timezone.now()
    orders, lines, payments, reservations, movements, shipping = [], [], [], [], [], []
    for n, item in enumerate(data):
        a = item.shipping_address
        order = Order(workspace_id=ws, number=first_number + n, source=item.source,
                      external_id=item.external_id, email=item.email, ship_name=a.name,
                      ship_line1=a.line1, ship_city=a.city, ship_postcode=a.postcode,
                      ship_phone=a.phone, ship_province_code=a.province_code,
                      ship_country_code="IN", currency="INR", placed_at=now)
        orders.append(order)
        shipping.append(FulfillmentOrder(workspace_id=ws, order=order, location=location))
        for position, line in enumerate(item.lines, start=1):
            v = variants[line.sku]
            tax = gst.split(gross_minor=v.price_minor * line.quantity, rate_bp=v.tax_rate_bp,
                            supplier_state="MH", destination_state=a.province_code)
            lines.append(OrderLine(
                workspace_id=ws, order=order, variant=v, location=location, sku=v.sku,
                title=v.product.title, quantity=line.quantity, unit_price_minor=v.price_minor,
                hsn_code=v.hsn_code, tax_rate_bp=v.tax_rate_bp, taxable_minor=tax.taxable_minor,
                cgst_minor=tax.cgst_minor, sgst_minor=tax.sgst_minor, igst_minor=tax.igst_minor,
                position=position))
            reference = f"order:{order.id}"
            reservations.append(Reservation(workspace_id=ws, level_id=levels[v.id],
                                            quantity=line.quantity, reference=reference))
            movements.append(Movement(
                workspace_id=ws, level_id=levels[v.id], kind=MovementKind.RESERVE,
                reserved_delta=line.quantity, on_hand_after=0, reserved_after=0,
                reference=reference, actor_type=ACTOR.type, actor_id=ACTOR.id))
        payments.append(Transaction(workspace_id=ws, order=order, kind="sale", gateway="razorpay",
                                    amount_minor=1, processed_at=now))
    with workspace_scope(ws), transaction.atomic():
        for model, rows in ((Order, orders), (OrderLine, lines), (Transaction, payments),
                            (FulfillmentOrder, shipping), (Reservation, reservations),
                            (Movement, movements)):
            model.objects.bulk_create(rows, batch_size=1000)


def clear(ws) -> int:
    """Delete the orders and their stock rows; returns the next free order number."""
    with system_scope(), connection.cursor() as cursor:
        for model in (Movement, Reservation, Transaction, FulfillmentOrder, OrderLine, Order):
            table = connection.ops.quote_name(model._meta.db_table)
            if model is Movement:  # keep the opening receipts
                cursor.execute(f"DELETE FROM {table} WHERE kind = %s", [MovementKind.RESERVE])
            else:
                cursor.execute(f"DELETE FROM {table}")
    with workspace_scope(ws):
        Level.objects.update(reserved=0)
        counter = OrderCounter.objects.first()
        return counter.next_number if counter else 1001


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    ws = workspace_create(slug="bench", name="Bench", owner_email="bench@example.com").workspace.id
    location = setup(ws)
    services, floors = [], []  # (wall, process CPU) seconds per repetition
    for round_ in range(args.repeat):
        data = inputs(args.orders, seed=round_)
        number = clear(ws)
        services.append(_timed(via_services, ws, data))
        number = clear(ws)
        data = inputs(args.orders, seed=100 + round_)
        floors.append(_timed(floor, ws, location, data, number))
    (service_s, service_cpu), (floor_s, floor_cpu) = min(services), min(floors)
    print(json.dumps({
        "database": connection.vendor, "orders": args.orders, "repeat": args.repeat,
        "lines_per_order": 3, "service_orders_per_s": args.orders / service_s,
        "floor_orders_per_s": args.orders / floor_s, "ratio": service_s / floor_s,
        "cpu_ratio": service_cpu / floor_cpu,
        "service_cpu_ms_per_order": service_cpu / args.orders * 1000,
        "floor_cpu_ms_per_order": floor_cpu / args.orders * 1000,
    }))


def _timed(fn, *args) -> tuple[float, float]:
    """Wall and process-CPU seconds (the database server's CPU is not in the second)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - start, time.process_time() - cpu


if __name__ == "__main__":
    main()
