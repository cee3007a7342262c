"""``storesync demo`` at small counts: the shop it makes must be internally consistent, as if
every order had really been placed, shipped or cancelled through the services."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Sum
from django.utils import timezone

from storesync.catalog.models import Product, Variant
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.inventory.models import Level, Location, Movement, Reservation, ReservationState
from storesync.orders import gst
from storesync.orders.models import FulfillmentStatus, Order, OrderLine
from storesync.security import audit

ARGS = ("--products", "8", "--variants", "20", "--customers", "15", "--orders", "60",
        "--days", "14", "--seed", "7", "--no-progress")


@pytest.fixture
def demo(db, capsys):
    call_command("demo", *ARGS)
    output = capsys.readouterr().out
    workspace = Workspace.objects.get(slug="demo")
    with workspace_scope(workspace.id):
        yield workspace, output


def test_counts_and_catalogue_fit_an_indian_shop(demo):
    _, output = demo
    assert Product.objects.count() == 8 and Variant.objects.count() == 20
    assert Customer.objects.count() == 15 and Order.objects.count() == 60
    assert "60 orders" in output
    locations = {loc.name: loc for loc in Location.objects.all()}
    assert len(locations) == 3 and {loc.kind for loc in locations.values()} == {"warehouse", "3pl"}
    for location in locations.values():  # registered for GST in the state it stands in
        assert gst.gstin_state(gst.validate_gstin(location.gstin, field="gstin")) == \
            location.province_code
    assert len({loc.province_code for loc in locations.values()}) == 3
    for variant in Variant.objects.select_related("product"):
        assert variant.hsn_code and variant.tax_rate_bp in (500, 1800)
        assert variant.price_minor % 100 == 0 and variant.sku
        assert len(variant.barcode) == 13 and variant.barcode.startswith("890")
    # Same product type, same HSN code and rate.
    by_type = defaultdict(set)
    for variant in Variant.objects.select_related("product"):
        by_type[variant.product.product_type].add((variant.hsn_code, variant.tax_rate_bp))
    assert all(len(codes) == 1 for codes in by_type.values())


def test_orders_span_the_period_and_channels(demo):
    orders = list(Order.objects.all())
    now = timezone.now()
    assert all(now - timedelta(days=14) <= o.placed_at <= now for o in orders)
    assert set(Counter(o.source for o in orders)) <= {"shopify", "woocommerce", "manual"}
    assert len({o.source for o in orders}) >= 2
    assert any(o.cancelled_at for o in orders)
    assert any(o.fulfillment_status == FulfillmentStatus.FULFILLED for o in orders)
    numbers = [o.number for o in sorted(orders, key=lambda o: (o.placed_at, o.number))]
    assert numbers == sorted(numbers)  # numbered in the order they were placed


def test_every_line_is_reserved_or_sold_and_taxed_by_place_of_supply(demo):
    locations = {loc.id: loc.province_code for loc in Location.objects.all()}
    reservations = defaultdict(list)
    for reservation in Reservation.objects.select_related("level"):
        reservations[reservation.reference].append(reservation)
    for order in Order.objects.prefetch_related("lines"):
        held = reservations[f"order:{order.id}"]
        expected = ReservationState.RELEASED if order.cancelled_at else (
            ReservationState.FULFILLED if order.fulfillment_status == FulfillmentStatus.FULFILLED
            else ReservationState.ACTIVE)
        lines = list(order.lines.all())
        assert sorted((r.level.variant_id, r.quantity) for r in held) == \
            sorted((ln.variant_id, ln.quantity) for ln in lines)
        assert {r.state for r in held} == {expected}
        for line in lines:
            same_state = locations[line.location_id] == order.ship_province_code
            assert (line.igst_minor == 0) == same_state or line.tax_rate_bp == 0
            assert (line.cgst_minor + line.sgst_minor == 0) == (not same_state)
            assert line.taxable_minor + line.cgst_minor + line.sgst_minor + line.igst_minor == \
                line.unit_price_minor * line.quantity - line.discount_minor


def test_levels_are_never_negative_and_equal_the_ledger(demo):
    active = dict(Reservation.objects.filter(state=ReservationState.ACTIVE)
                  .values("level_id").annotate(q=Sum("quantity")).values_list("level_id", "q"))
    ledger = {row["level_id"]: row for row in Movement.objects.values("level_id").annotate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))}
    levels = list(Level.objects.all())
    assert len(levels) == 20 * 3
    for level in levels:
        assert level.on_hand >= level.reserved >= 0
        assert ledger[level.id]["on_hand"] == level.on_hand
        assert ledger[level.id]["reserved"] == level.reserved
        assert active.get(level.id, 0) == level.reserved
    sold = OrderLine.objects.filter(order__fulfillment_status=FulfillmentStatus.FULFILLED)
    assert -Movement.objects.filter(kind="sale").aggregate(s=Sum("on_hand_delta"))["s"] == \
        sold.aggregate(s=Sum("quantity"))["s"]


def test_demo_is_audited_and_refuses_bad_counts(demo):
    assert all(report.ok for report in audit.verify())
    assert Workspace.objects.filter(slug="demo").count() == 1
    for products, variants in (("5", "40"), ("8", "40"), ("8", "7")):
        # 8 products can have 37 variants at most: the ghee has only two sizes.
        with pytest.raises(CommandError, match="variants"):
            call_command("demo", "--workspace", "other", "--products", products,
                         "--variants", variants)
    assert not Workspace.objects.filter(slug="other").exists()


def test_every_event_happened_after_its_order_and_before_now(demo):
    """Cancellations, shipments and stock movements are stamped within the generated past,
    after the order they belong to — not at the moment the demo was loaded."""
    from storesync.orders.models import Fulfillment, Transaction

    now = timezone.now()
    orders = {o.id: o for o in Order.objects.all()}
    cancelled = [o for o in orders.values() if o.cancelled_at]
    assert cancelled
    for order in cancelled:
        assert order.placed_at < order.cancelled_at < now
    # Loaded in one go, the cancellations would share a moment; spread over two weeks they do not.
    assert len({o.cancelled_at for o in cancelled}) == len(cancelled)
    shipments = list(Fulfillment.objects.all())
    assert shipments
    for shipment in shipments:
        assert orders[shipment.order_id].placed_at < shipment.created_at < now
    for payment in Transaction.objects.all():
        assert payment.processed_at == orders[payment.order_id].placed_at
    for movement in Movement.objects.filter(reference__startswith="order:"):
        order = orders[uuid.UUID(movement.reference.removeprefix("order:"))]
        if movement.kind == "reserve":
            assert movement.created_at == order.placed_at
        elif movement.kind == "release":
            assert movement.created_at == order.cancelled_at
        else:
            assert movement.kind == "sale"
            assert order.placed_at < movement.created_at < now
    first_order = min(o.placed_at for o in orders.values())
    assert all(m.created_at < first_order for m in Movement.objects.filter(kind="receive"))


def test_the_ledger_reads_in_the_order_of_events(demo):
    """Each level's movements, in id order (as the ledger page lists them), are in time
    order, and each one's ``after`` values follow from the one before it."""
    by_level = defaultdict(list)
    for movement in Movement.objects.order_by("id"):
        by_level[movement.level_id].append(movement)
    for movements in by_level.values():
        on_hand = reserved = 0
        moments = [m.created_at for m in movements]
        assert moments == sorted(moments)
        for movement in movements:
            on_hand += movement.on_hand_delta
            reserved += movement.reserved_delta
            assert (movement.on_hand_after, movement.reserved_after) == (on_hand, reserved)
            assert movement.on_hand_after >= movement.reserved_after >= 0
