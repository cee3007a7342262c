"""Reconciliation polls the platform's orders page by page from a saved cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storesync.channels.connectors.base import ChannelOrder, ChannelOrderLine
from storesync.channels.models import SyncCursor
from storesync.channels.reconcile import reconcile_orders
from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def _order(n: int, *, updated: datetime, sku: str = "KURTA-M") -> ChannelOrder:
    return ChannelOrder(
        external_id=f"ord-{n}", name=f"#{1000 + n}", created_at=T0, updated_at=updated,
        currency="INR", email=f"buyer{n}@example.com",
        lines=(ChannelOrderLine(external_id=f"line-{n}", sku=sku, quantity=1,
                                unit_price_minor=89900),))


def _cursor(channel):
    with workspace_scope(channel.workspace_id):
        return SyncCursor.objects.get(connection_id=channel.connection.id, stream="orders")


def _run(channel, applied, **kwargs):
    def apply(*, connection, order, actor):
        applied.append(order.external_id)

    return reconcile_orders(workspace_id=channel.workspace_id,
                            connection_id=channel.connection.id, apply=apply, **kwargs)


def test_orders_are_applied_page_by_page_and_the_next_run_starts_at_the_high_water_mark(
        channel):
    orders = [_order(n, updated=T0 + timedelta(minutes=n)) for n in range(1, 6)]
    channel.platform.order_pages = [orders]
    applied: list[str] = []

    report = _run(channel, applied)

    assert applied == [o.external_id for o in orders]
    assert (report.pages, report.orders, report.done) == (3, 5, True)
    cursor = _cursor(channel)
    assert cursor.cursor == "" and cursor.updated_since == T0 + timedelta(minutes=5)

    channel.platform.order_pages.append([_order(6, updated=T0 + timedelta(minutes=9))])
    again: list[str] = []
    _run(channel, again)
    # Only what changed since (the boundary order may come again: applying is idempotent).
    assert again == ["ord-5", "ord-6"]
    _, (since, _) = channel.platform.calls[-1]
    assert since == T0 + timedelta(minutes=5)


def test_an_interrupted_run_resumes_from_the_last_saved_page(channel):
    channel.platform.order_pages = [[_order(n, updated=T0 + timedelta(minutes=n))
                                     for n in range(1, 6)]]
    applied: list[str] = []
    report = _run(channel, applied, max_pages=1)
    assert applied == ["ord-1", "ord-2"] and not report.done
    assert _cursor(channel).cursor == "2" and _cursor(channel).updated_since is None
    _run(channel, applied)
    assert applied == ["ord-1", "ord-2", "ord-3", "ord-4", "ord-5"]


def test_an_order_the_hub_refuses_is_reported_and_the_rest_still_applied(channel):
    channel.platform.order_pages = [[_order(1, updated=T0), _order(2, updated=T0)]]
    applied: list[str] = []

    def apply(*, connection, order, actor):
        if order.external_id == "ord-1":
            raise ValidationError("no variant with SKU 'GONE'", field="lines.0.sku")
        applied.append(order.external_id)

    report = reconcile_orders(workspace_id=channel.workspace_id,
                              connection_id=channel.connection.id, apply=apply)
    assert report.failed == ["ord-1"] and applied == ["ord-2"]


def test_the_default_apply_creates_the_order_and_reserves_its_stock(channel):
    from storesync.inventory import services as inventory
    from storesync.inventory.selectors import available_to_sell
    from storesync.orders.models import Order
    from tests.channels.conftest import ACTOR

    m = channel.variants["KURTA-M"]
    inventory.stock_receive(workspace_id=channel.workspace_id, variant_id=m.id,
                            location_id=channel.main.id, quantity=5, actor=ACTOR)
    channel.platform.order_pages = [[_order(1, updated=T0)]]
    reconcile_orders(workspace_id=channel.workspace_id, connection_id=channel.connection.id)
    reconcile_orders(workspace_id=channel.workspace_id, connection_id=channel.connection.id)
    with workspace_scope(channel.workspace_id):
        assert Order.objects.filter(external_id="ord-1").count() == 1
    assert available_to_sell(workspace_id=channel.workspace_id, variant_id=m.id) == 4


def test_one_run_per_connection_at_a_time(channel):
    from django.utils import timezone

    from storesync.channels.reconcile import sync_cursor_get

    channel.platform.order_pages = [[_order(1, updated=T0)]]
    state = sync_cursor_get(workspace_id=channel.workspace_id,
                            connection_id=channel.connection.id, stream="orders")
    with workspace_scope(channel.workspace_id):
        SyncCursor.objects.filter(id=state.id).update(
            lease_until=timezone.now() + timedelta(minutes=5))  # a run is under way
    applied: list[str] = []
    assert _run(channel, applied).skipped and applied == []
    assert _cursor(channel).rerun_requested  # the holder is asked to run once more
    with workspace_scope(channel.workspace_id):  # that worker died; its lease ran out
        SyncCursor.objects.filter(id=state.id).update(
            lease_until=timezone.now() - timedelta(seconds=1))
    assert not _run(channel, applied).skipped and applied == ["ord-1"]
    assert _cursor(channel).lease_until is None


def test_a_request_during_a_run_makes_it_run_once_more(channel):
    channel.platform.order_pages = [[_order(1, updated=T0)]]
    nested = []

    def apply(*, connection, order, actor):
        if not nested:  # a webhook arrives while this run is applying
            nested.append(reconcile_orders(workspace_id=channel.workspace_id,
                                           connection_id=channel.connection.id, apply=apply))
            channel.platform.order_pages.append([_order(2, updated=T0 + timedelta(hours=1))])

    reconcile_orders(workspace_id=channel.workspace_id, connection_id=channel.connection.id,
                     apply=apply)
    assert nested[0].skipped
    polls = [args for name, args in channel.platform.calls if name == "import_orders"]
    assert len(polls) == 2 and polls[1][0] == T0  # the second run starts at the high-water mark
    assert not _cursor(channel).rerun_requested
    assert _cursor(channel).updated_since == T0 + timedelta(hours=1)
