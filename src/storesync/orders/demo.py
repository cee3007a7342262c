"""Generated demo orders: three months of an Indian shop's sales across channels, placed,
cancelled and fulfilled through ``orders.services`` so that stock, reservations and the ledger
agree exactly as they would in real use.

The shape: more orders at weekends and in the evening, slow growth over the period, a
four-day sale a month ago; repeat buyers; mostly prepaid (UPI, cards), a third cash on
delivery; free shipping from Rs 999; older orders mostly shipped, recent ones still open.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from django.db import transaction
from django.utils import timezone as django_timezone
from faker import Faker

from storesync.catalog.demo import DemoVariant
from storesync.customers.demo import DemoCustomer, fake_address, fake_phone
from storesync.customers.services import AddressInput
from storesync.inventory.demo import DemoLocation
from storesync.inventory.services import InsufficientStock
from storesync.orders.services import (
    LineInput,
    OrderInput,
    PaymentInput,
    order_cancel,
    order_create,
    order_fulfil,
)
from storesync.security.audit import Actor

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
ORDERS_PER_TRANSACTION = 100  # services nest as savepoints; SQLite commits once per batch


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


def _settle(workspace_id: uuid.UUID, order_id: uuid.UUID, age: timedelta,
            rng: random.Random, actor: Actor, stats: OrderStats) -> None:
    """Ship or cancel as a shop would have by now: most orders older than three days."""
    days = age / timedelta(days=1)
    shipped, cancelled = (0.88, 0.07) if days > 3 else (0.5, 0.05) if days > 1 else (0.1, 0.03)
    draw = rng.random()
    if draw < cancelled:
        order_cancel(workspace_id=workspace_id, order_id=order_id, actor=actor,
                     reason=rng.choice(("customer", "declined", "fraud", "other")))
        stats.cancelled += 1
    elif draw < cancelled + shipped:
        order_fulfil(workspace_id=workspace_id, order_id=order_id, actor=actor)
        stats.fulfilled += 1


def place_orders(*, workspace_id: uuid.UUID, plan: Sequence[OrderInput], seed: int,
                 progress: Callable[[int], object] | None = None) -> OrderStats:
    """Create the planned orders through ``order_create``, then ship or cancel them by age."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    actor = Actor.system("demo")
    now = django_timezone.now()
    stats = OrderStats()
    for start in range(0, len(plan), ORDERS_PER_TRANSACTION):
        batch = plan[start:start + ORDERS_PER_TRANSACTION]
        with transaction.atomic():
            for data in batch:
                try:
                    order = order_create(workspace_id=workspace_id, data=data, actor=actor)
                except InsufficientStock:
                    stats.skipped += 1  # only if stock was received short of the plan
                    continue
                stats.created += 1
                assert data.placed_at is not None
                _settle(workspace_id, order.id, now - data.placed_at, rng, actor, stats)
        if progress:
            progress(len(batch))
    return stats
