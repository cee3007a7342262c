"""Generated demo orders: three months of an Indian shop's sales across channels, placed,
then shipped or cancelled some hours or days later, each at its own moment in the past.

Orders are priced and taxed by ``orders.services`` (``address_fields``, ``_build_lines``,
``order_totals``) and their stock goes through ``inventory.demo.StockHistory``, which applies
the inventory services' rules in the order events happened; the rows are then written in bulk
(ADR 0022). Stock, reservations and the ledger agree exactly as after real use, and every
timestamp — placed, paid, reserved, shipped, cancelled — lies in the past, in order.

The shape: more orders at weekends and in the evening, slow growth over the period, a
four-day sale a month ago; repeat buyers; mostly prepaid (UPI, cards), a third cash on
delivery; free shipping from Rs 999; older orders mostly shipped, recent ones still open.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from django.db import transaction
from django.utils import timezone as django_timezone
from faker import Faker

from storesync.catalog.demo import DemoVariant
from storesync.catalog.models import Variant
from storesync.core.bulkwrite import tenant_bulk_update
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address
from storesync.customers.demo import DemoCustomer, fake_address, fake_phone
from storesync.customers.services import AddressInput
from storesync.inventory.demo import DemoLocation, StockHistory
from storesync.inventory.models import Location, LocationKind
from storesync.inventory.services import InsufficientStock
from storesync.orders import gst
from storesync.orders.models import (
    FinancialStatus,
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderCounter,
    OrderLine,
    Transaction,
)
from storesync.orders.services import (
    LineInput,
    OrderInput,
    PaymentInput,
    _build_lines,
    address_fields,
    next_number,
    order_totals,
    paid_minor,
)

IST = timezone(timedelta(hours=5, minutes=30))
WEEKDAY_FACTOR = (0.95, 0.9, 0.9, 0.95, 1.05, 1.25, 1.3)  # Monday first
# Share of the day's orders in each hour, India time: a lunch bump and an evening peak.
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 4.5, 5, 6, 6, 5, 4.5, 4.5, 5,
                6, 7, 8, 8.5, 7, 4)
SOURCES = (("shopify", 0.55), ("woocommerce", 0.30), ("manual", 0.15))
NORTH = {"DL", "HR", "PB", "UP", "RJ", "UK", "HP", "JK", "CH"}
SOUTH = {"KA", "TN", "KL", "TG", "AP", "PY"}
FREE_SHIPPING_FROM_MINOR = 99_900
SHIPPING_MINOR = 7_900
WRITE_BATCH = 2000
CANCEL_REASONS = ("customer", "declined", "fraud", "other")


@dataclass
class OrderStats:
    created: int = 0
    fulfilled: int = 0
    cancelled: int = 0
    skipped: int = 0  # no location had the stock: a real shop would not have taken the order


def order_times(rng: random.Random, count: int, days: int, now: datetime) -> list[datetime]:
    """``count`` moments in the last ``days`` days, oldest first, shaped like real demand."""
    start = now.astimezone(IST).replace(hour=0, minute=0, second=0, microsecond=0) \
        - timedelta(days=days - 1)
    weights = []
    for day in range(days):
        date = start + timedelta(days=day)
        sale = 1.8 if days - 33 <= day < days - 29 else 1.0
        weights.append((1 + 0.5 * day / days) * WEEKDAY_FACTOR[date.weekday()] * sale)
    moments = []
    for day in rng.choices(range(days), weights=weights, k=count):
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        moment = start + timedelta(days=day, hours=hour, seconds=rng.randrange(3600))
        if moment > now:  # today's orders so far only
            moment = now - timedelta(seconds=rng.randrange(1, 4 * 3600))
        moments.append(moment.astimezone(UTC))
    return sorted(moments)


def _location_order(state: str, locations: Sequence[DemoLocation]) -> list[DemoLocation]:
    """Nearest location first: Gurugram for the north, the Bengaluru 3PL for the south."""
    preferred = "HR" if state in NORTH else "KA" if state in SOUTH else "MH"
    return sorted(locations, key=lambda loc: loc.state != preferred)


class _Shop:
    """Draws the parts of one order; all randomness comes from one seeded generator."""

    def __init__(self, rng: random.Random, customers: Sequence[DemoCustomer],
                 variants: Sequence[DemoVariant]) -> None:
        self.rng = rng
        self.fake = Faker("en_IN")
        self.fake.seed_instance(rng.randrange(2**31))
        self.customers = customers
        self.variants = variants
        # A few best-sellers and a long tail.
        self.popularity = [rng.lognormvariate(0, 1) for _ in variants]
        self.serial = 0

    def buyer(self) -> tuple[uuid.UUID | None, str, AddressInput]:
        if self.customers and self.rng.random() < 0.85:
            # Squared uniform: early customers buy again and again, like loyal regulars.
            customer = self.customers[int(len(self.customers) * self.rng.random() ** 2)]
            return customer.id, customer.email, customer.address
        name = self.fake.name()
        email = f"{name.lower().replace(' ', '.')}.guest{self.serial}@example.com"
        return None, email, fake_address(self.fake, name, fake_phone(self.fake))

    def lines(self) -> list[tuple[DemoVariant, int, int]]:
        count = self.rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0]
        chosen: dict[str, DemoVariant] = {}
        while len(chosen) < min(count, len(self.variants)):
            variant = self.rng.choices(self.variants, weights=self.popularity)[0]
            chosen[variant.sku] = variant
        out = []
        for variant in chosen.values():
            quantity = self.rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            discount = variant.price_minor * quantity // 10 if self.rng.random() < 0.15 else 0
            out.append((variant, quantity, discount))
        return out

    def order(self, placed_at: datetime) -> OrderInput:
        self.serial += 1
        customer_id, email, address = self.buyer()
        lines = self.lines()
        subtotal = sum(v.price_minor * q - d for v, q, d in lines)
        shipping = 0 if subtotal >= FREE_SHIPPING_FROM_MINOR else SHIPPING_MINOR
        source = self.rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
        external_id = {"shopify": str(5_400_000_000_000 + self.serial * 7919),
                       "woocommerce": str(20_000 + self.serial)}.get(source, "")
        payments = []
        if self.rng.random() < 0.65:  # prepaid; the rest is cash on delivery
            card = self.rng.random() < 0.35
            payments.append(PaymentInput(
                kind="sale", amount_minor=subtotal + shipping,
                gateway=self.rng.choice(("razorpay", "cashfree", "payu")),
                card_brand=self.rng.choice(("visa", "mastercard", "rupay")) if card else "",
                card_last4=f"{self.rng.randrange(10_000):04d}" if card else "",
                external_id=f"pay_{uuid.UUID(int=self.rng.getrandbits(128)).hex[:14]}"))
        return OrderInput(
            lines=[LineInput(sku=v.sku, quantity=q, discount_minor=d) for v, q, d in lines],
            shipping_address=address, email=email, customer_id=customer_id,
            shipping_minor=shipping, source=source, external_id=external_id,
            placed_at=placed_at, payments=payments,
        )


def plan_orders(*, count: int, days: int, customers: Sequence[DemoCustomer],
                variants: Sequence[DemoVariant], locations: Sequence[DemoLocation], seed: int,
                now: datetime) -> list[OrderInput]:
    """The orders to place, oldest first, each at the location nearest its buyer.

    Planned before stock is received, so the opening stock can follow demand (best-sellers
    stocked deeper), as a shop's buyer would plan it."""
    if not variants or not locations:
        raise ValueError("the demo needs a catalogue and locations before orders")
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    shop = _Shop(rng, customers, variants)
    plan = []
    for placed_at in order_times(rng, count, days, now):
        data = shop.order(placed_at)
        data.location_id = _location_order(data.shipping_address.province_code, locations)[0].id
        plan.append(data)
    return plan


def demand(plan: Sequence[OrderInput], variants: Sequence[DemoVariant]
           ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """Units each (variant, location) pair will sell in ``plan``."""
    by_sku = {v.sku: v.id for v in variants}
    totals: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for data in plan:
        assert data.location_id is not None
        for line in data.lines:
            key = (by_sku[line.sku], data.location_id)
            totals[key] = totals.get(key, 0) + line.quantity
    return totals


def _fate(age: timedelta, rng: random.Random) -> tuple[str, timedelta]:
    """Ship or cancel as a shop would have by now (most orders older than three days), and
    how long after the order it happened: always before now."""
    days = age / timedelta(days=1)
    shipped, cancelled = (0.88, 0.07) if days > 3 else (0.5, 0.05) if days > 1 else (0.1, 0.03)
    draw = rng.random()
    if draw < cancelled:  # soon: the buyer changed their mind, the payment failed
        return "cancel", min(age * rng.uniform(0.1, 0.9),
                             timedelta(minutes=rng.uniform(10, 36 * 60)))
    if draw < cancelled + shipped:  # packed and handed to the courier within three days
        return "ship", min(age * rng.uniform(0.2, 0.95), timedelta(hours=rng.uniform(3, 72)))
    return "", timedelta(0)


@dataclass
class _Placed:
    order: Order
    lines: list[OrderLine]
    fulfillment_order: FulfillmentOrder


@dataclass
class _Shopfloor:
    """The orders of the generated past, played oldest event first and written in bulk."""

    workspace: Workspace
    stock: StockHistory
    locations: dict[uuid.UUID, Location]
    variants: dict[str, Variant]
    rng: random.Random
    stats: OrderStats = field(default_factory=OrderStats)
    placed: list[_Placed] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    fulfillment_lines: list[FulfillmentLine] = field(default_factory=list)
    moments: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def _id(self, at: datetime) -> uuid.UUID:
        return self.stock.ids.at(int(at.timestamp() * 1000))

    def place(self, data: OrderInput, number: int) -> _Placed | None:
        """What ``order_create`` stores for ``data``, or None when the stock is not there."""
        at = data.placed_at
        assert at is not None
        assert data.location_id is not None
        location = self.locations[data.location_id]
        order = Order(
            id=self._id(at), workspace_id=self.workspace.id, number=number,
            source=data.source, external_id=data.external_id, customer_id=data.customer_id,
            email=validate_email_address(data.email, field="email"), buyer_gstin="",
            currency=self.workspace.currency, shipping_minor=data.shipping_minor, placed_at=at,
            **address_fields(data.shipping_address))
        supplier_state = gst.gstin_state(location.gstin) if location.gstin \
            else location.province_code
        lines = _build_lines(order, data, location, supplier_state, known=self.variants)
        try:
            self.stock.reserve(lines=[(ln.variant_id, ln.location_id, ln.quantity)
                                      for ln in lines
                                      if ln.reserves and ln.variant_id and ln.location_id],
                               reference=f"order:{order.id}", at=at)
        except InsufficientStock:
            return None
        for line in lines:
            line.id = self._id(at)
        order_totals(order, lines)
        if paid_minor(data.payments) >= order.total_minor and order.total_minor > 0:
            order.financial_status = FinancialStatus.PAID
        self.transactions += [Transaction(
            id=self._id(at), workspace_id=order.workspace_id, order=order, kind=p.kind,
            gateway=p.gateway, amount_minor=p.amount_minor, card_brand=p.card_brand,
            card_last4=p.card_last4, external_id=p.external_id, processed_at=at)
            for p in data.payments]
        fo = FulfillmentOrder(
            id=self._id(at), workspace_id=order.workspace_id, order=order,
            location_id=location.id, managed_by=FulfillmentOrder.ManagedBy.THIRD_PARTY
            if location.kind == LocationKind.THIRD_PARTY else FulfillmentOrder.ManagedBy.MERCHANT)
        self.moments[fo.id] = self.moments[order.id] = at
        placed = _Placed(order, lines, fo)
        self.placed.append(placed)
        self.stats.created += 1
        return placed

    def cancel(self, placed: _Placed, at: datetime) -> None:
        """What ``order_cancel`` does: release the stock, cancel the fulfillment order."""
        self.stock.close(reference=f"order:{placed.order.id}", sale=False, at=at)
        placed.fulfillment_order.status = FulfillmentOrder.Status.CANCELLED
        placed.order.cancelled_at = at
        placed.order.cancel_reason = self.rng.choice(CANCEL_REASONS)
        placed.order.version += 1
        self.stats.cancelled += 1

    def ship(self, placed: _Placed, at: datetime) -> None:
        """What ``order_fulfil`` does: one shipment of everything, reservations become sales."""
        shipment = Fulfillment(id=self._id(at), workspace_id=placed.order.workspace_id,
                               order=placed.order, fulfillment_order=placed.fulfillment_order,
                               number=1)
        self.moments[shipment.id] = at
        self.fulfillments.append(shipment)
        for line in placed.lines:
            self.fulfillment_lines.append(FulfillmentLine(
                id=self._id(at), workspace_id=line.workspace_id, fulfillment=shipment,
                line=line, quantity=line.quantity))
            line.fulfilled_quantity = line.quantity
        self.stock.close(reference=f"order:{placed.order.id}", sale=True, at=at)
        placed.fulfillment_order.status = FulfillmentOrder.Status.CLOSED
        placed.order.fulfillment_status = FulfillmentStatus.FULFILLED
        placed.order.version += 1
        self.stats.fulfilled += 1

    def write(self) -> None:
        orders = [p.order for p in self.placed]
        fulfillment_orders = [p.fulfillment_order for p in self.placed]
        with workspace_scope(self.workspace.id), transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=WRITE_BATCH)
            OrderLine.objects.bulk_create([ln for p in self.placed for ln in p.lines],
                                          batch_size=WRITE_BATCH)
            Transaction.objects.bulk_create(self.transactions, batch_size=WRITE_BATCH)
            FulfillmentOrder.objects.bulk_create(fulfillment_orders, batch_size=WRITE_BATCH)
            Fulfillment.objects.bulk_create(self.fulfillments, batch_size=WRITE_BATCH)
            FulfillmentLine.objects.bulk_create(self.fulfillment_lines, batch_size=WRITE_BATCH)
            self.stock.write(batch_size=WRITE_BATCH)
            # bulk_create stamps auto_now_add fields with the present: put the past back.
            for rows in (orders, fulfillment_orders, self.fulfillments):
                for row in rows:
                    row.created_at = self.moments[row.id]
                tenant_bulk_update(rows, ["created_at"], batch_size=WRITE_BATCH)
            if orders:
                OrderCounter.objects.filter(workspace_id=self.workspace.id).update(
                    next_number=orders[-1].number + 1)


def place_orders(*, workspace_id: uuid.UUID, plan: Sequence[OrderInput], seed: int,
                 stock: StockHistory, now: datetime | None = None,
                 progress: Callable[[int], object] | None = None) -> OrderStats:
    """Place the planned orders, then ship or cancel each as a shop would have by ``now``,
    every event at its own moment; write orders and ``stock`` (which must already hold the
    opening stock) in one transaction."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    now = now or django_timezone.now()
    with workspace_scope(workspace_id), transaction.atomic():
        floor = _Shopfloor(Workspace.objects.get(id=workspace_id), stock,
                           {loc.id: loc for loc in Location.objects.all()},
                           {v.sku: v for v in Variant.objects.select_related("product")}, rng)
        first = next_number(workspace_id)  # takes the counter's lock for the whole write
        # Events oldest first: (moment, sequence, plan index, what happens).
        sequence = itertools.count()
        events: list[tuple[datetime, int, int, str]] = []
        for index, data in enumerate(plan):
            assert data.placed_at is not None
            heapq.heappush(events, (data.placed_at, next(sequence), index, "place"))
        placed: dict[int, _Placed] = {}
        reported = 0
        while events:
            at, _, index, what = heapq.heappop(events)
            if what == "place":
                order = floor.place(plan[index], first + floor.stats.created)
                if order is None:
                    floor.stats.skipped += 1  # only if stock was received short of the plan
                else:
                    placed[index] = order
                    fate, after = _fate(now - at, rng)
                    if fate:
                        heapq.heappush(events, (at + after, next(sequence), index, fate))
                reported += 1
                if progress and reported % 100 == 0:
                    progress(100)
            elif what == "cancel":
                floor.cancel(placed[index], at)
            else:
                floor.ship(placed[index], at)
        if progress and reported % 100:
            progress(reported % 100)
        floor.write()
    return floor.stats
