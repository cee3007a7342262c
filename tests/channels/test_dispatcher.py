"""Stock changes reach the channel: one coalesced, compare-and-set push per listing with the
quantity the hub can really sell; failures back off, then park as dead letters to replay."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from storesync.catalog.listings import listing_set_status
from storesync.channels import dispatcher, outbox
from storesync.channels.connectors.base import AuthFailed, ChannelError, Throttled
from storesync.channels.models import Connection, OutboxItem, OutboxState
from storesync.channels.selectors import connection_health
from storesync.channels.services import dispatch_lease_take, location_mapping_add
from storesync.core.tenancy import workspace_scope
from storesync.inventory import services as inventory
from storesync.inventory.services import InsufficientStock, StockLine
from storesync.security.models import AuditEvent
from tests.channels.conftest import ACTOR, CHANNEL_LOCATION, reload

M, L = "KURTA-M", "KURTA-L"
ITEM = {L: "item-1", M: "item-2"}


def _drain(channel):
    return dispatcher.drain_connection(workspace_id=channel.workspace_id,
                                       connection_id=channel.connection.id)


def _rows(channel, **filters):
    with workspace_scope(channel.workspace_id):
        return list(OutboxItem.objects.filter(connection_id=channel.connection.id, **filters))


def _shown(channel, sku):
    return channel.platform.levels[(ITEM[sku], CHANNEL_LOCATION)]


def _receive(channel, sku, quantity, location=None):
    inventory.stock_receive(workspace_id=channel.workspace_id,
                            variant_id=channel.variants[sku].id,
                            location_id=(location or channel.main).id, quantity=quantity,
                            actor=ACTOR)


def _make_due(channel):
    """Time passes: every backoff is over."""
    with workspace_scope(channel.workspace_id):
        OutboxItem.objects.filter(state=OutboxState.PENDING).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_many_changes_become_one_push_per_listing_of_the_available_quantity(channel):
    ws, m = channel.workspace_id, channel.variants[M]
    _receive(channel, M, 10)
    _receive(channel, M, 5, location=channel.store)
    inventory.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=channel.main.id,
                           delta=-3, reason="damaged", actor=ACTOR)
    inventory.stock_reserve(workspace_id=ws, reference="order-1", actor=ACTOR,
                            lines=[StockLine(m.id, channel.main.id, 2)])
    _receive(channel, L, 4)
    assert len(_rows(channel, state=OutboxState.PENDING)) == 5  # one per change and listing

    report = _drain(channel)

    pushes = channel.platform.pushes()
    assert len(pushes) == 1  # coalesced and batched: one call
    sent = {u.inventory_item_id: u.quantity for u in pushes[0]}
    # M: on hand 10 - 3 + 5 = 12, reserved 2 -> 10; never the on-hand figure
    assert sent == {ITEM[M]: 10, ITEM[L]: 4}
    assert _shown(channel, M) == 10 and _shown(channel, L) == 4
    assert report.pushed == 2 and not _rows(channel, state=OutboxState.PENDING)
    assert reload(channel, M).last_channel_quantity == 10
    assert connection_health(workspace_id=ws, connection_id=channel.connection.id).pending == 0


def test_buffers_are_held_back_and_the_quantity_never_goes_below_zero(channel):
    ws, m = channel.workspace_id, channel.variants[M]
    _receive(channel, M, 6)
    inventory.level_set_safety_buffer(workspace_id=ws, variant_id=m.id,
                                      location_id=channel.main.id, safety_buffer=1, actor=ACTOR)
    with workspace_scope(ws):
        Connection.objects.filter(id=channel.connection.id).update(safety_buffer=2)
    _drain(channel)
    assert _shown(channel, M) == 3  # 6 on hand - 1 level buffer - 2 channel buffer

    inventory.stock_reserve(workspace_id=ws, reference="order-1", actor=ACTOR,
                            lines=[StockLine(m.id, channel.main.id, 4)])
    _drain(channel)
    assert _shown(channel, M) == 0  # 6 - 4 - 1 = 1 available, minus 2 held back: zero, not -1

    inventory.stock_adjust(workspace_id=ws, variant_id=m.id, location_id=channel.main.id,
                           delta=-2, reason="count", actor=ACTOR)
    _drain(channel)
    assert _shown(channel, M) == 0  # nothing available at all
    assert [u.quantity for u in channel.platform.pushes()[-1]] == [0]


def test_only_the_hub_locations_mapped_to_the_channel_location_count(channel):
    ws = channel.workspace_id
    location_mapping_add(workspace_id=ws, connection_id=channel.connection.id,
                         channel_location_id=CHANNEL_LOCATION, location_id=channel.store.id)
    _receive(channel, M, 10)  # the warehouse does not feed this channel location
    _receive(channel, M, 3, location=channel.store)
    _drain(channel)
    assert _shown(channel, M) == 3


def test_a_failed_stock_change_writes_no_outbox_row(channel):
    with pytest.raises(InsufficientStock):
        inventory.stock_reserve(workspace_id=channel.workspace_id, reference="o", actor=ACTOR,
                                lines=[StockLine(channel.variants[M].id, channel.main.id, 1)])
    assert _rows(channel) == []


def test_unlisted_listings_are_not_pushed(channel):
    listing_set_status(workspace_id=channel.workspace_id, listing_id=channel.listings[M].id,
                       status="unlisted", actor=ACTOR)
    _receive(channel, M, 5)
    assert _rows(channel) == []
    _drain(channel)
    assert channel.platform.pushes() == []


def test_batches_respect_the_platform_maximum(channel):
    channel.platform.max_batch = 1
    _receive(channel, M, 2)
    _receive(channel, L, 3)
    _drain(channel)
    assert [len(p) for p in channel.platform.pushes()] == [1, 1]
    assert (_shown(channel, M), _shown(channel, L)) == (2, 3)


def test_stale_channel_is_reread_and_pushed_again(channel):
    _receive(channel, M, 10)
    _drain(channel)
    assert reload(channel, M).last_channel_quantity == 10
    # The channel sells one between storesync's last look and its next push.
    channel.platform.sell_before_push[(ITEM[M], CHANNEL_LOCATION)] = 1
    _receive(channel, M, 5)

    report = _drain(channel)

    names = [name for name, _ in channel.platform.calls]
    # Orders first (the hub learns the sale, if it was one), then the channel's level.
    assert names[-4:] == ["push_quantities", "import_orders", "fetch_levels", "push_quantities"]
    first, second = channel.platform.pushes()[-2:]
    assert first[0].expected == 10 and second[0].expected == 9
    assert _shown(channel, M) == 15 and report.stale == 1 and report.pushed == 1
    assert reload(channel, M).last_channel_quantity == 15
    assert not _rows(channel, state=OutboxState.PENDING)


def test_unknown_channel_quantity_is_read_before_the_first_push(channel):
    channel.platform.levels[(ITEM[M], CHANNEL_LOCATION)] = 7
    _receive(channel, M, 4)
    _drain(channel)
    names = [name for name, _ in channel.platform.calls]
    assert names == ["fetch_levels", "push_quantities"]
    assert channel.platform.pushes()[0][0].expected == 7 and _shown(channel, M) == 4


def test_failures_back_off_then_dead_letter_then_replay(channel, owner_api):
    ws = channel.workspace_id
    _receive(channel, M, 3)
    channel.platform.outage = ChannelError("503 from the platform", status=503)

    _drain(channel)
    [row] = _rows(channel, state=OutboxState.PENDING)
    wait = (row.next_attempt_at - timezone.now()).total_seconds()
    assert row.attempts == 1 and 0 < wait <= outbox.BACKOFF_BASE_S
    pushes = len(channel.platform.pushes())
    _drain(channel)  # still backing off: nothing is sent
    assert len(channel.platform.pushes()) == pushes

    for _ in range(outbox.MAX_ATTEMPTS - 1):
        _make_due(channel)
        _drain(channel)
    [dead] = _rows(channel, state=OutboxState.DEAD)
    assert dead.attempts == outbox.MAX_ATTEMPTS and "503" in dead.last_error
    health = owner_api.get(f"/api/v1/connections/{channel.connection.id}").json()
    assert health["dead_letters"] == 1 and "503" in health["last_error"]
    letters = owner_api.get(f"/api/v1/connections/{channel.connection.id}/dead-letters").json()
    assert [d["sku"] for d in letters] == [M]

    channel.platform.outage = None
    response = owner_api.post(f"/api/v1/connections/{channel.connection.id}"
                              "/dead-letters/replay")
    assert response.status_code == 200 and response.json() == {"replayed": 1}
    [replayed] = AuditEvent.objects.filter(action="channel.dead_letters_replayed")
    assert (replayed.subject_id, replayed.detail, replayed.actor_type) == (
        str(channel.connection.id), {"rows": 1}, "token")
    _drain(channel)
    assert _shown(channel, M) == 3
    health = connection_health(workspace_id=ws, connection_id=channel.connection.id)
    assert (health.dead_letters, health.pending, health.last_error) == (0, 0, "")
    assert health.last_synced_at is not None


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    import random

    rng = random.Random(7)
    delays = [outbox.backoff_delay_s(n, rng=rng) for n in range(1, 15)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(outbox.BACKOFF_CAP_S, outbox.BACKOFF_BASE_S * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= outbox.BACKOFF_CAP_S


def test_refused_credentials_dead_letter_at_once(channel):
    _receive(channel, M, 3)
    channel.platform.push_errors.append(AuthFailed("app uninstalled", status=401))
    report = _drain(channel)
    assert report.dead == 1 and _rows(channel, state=OutboxState.DEAD)


def test_throttling_waits_without_counting_an_attempt(channel):
    _receive(channel, M, 3)
    channel.platform.push_errors.append(Throttled("slow down", retry_after_s=30))
    report = _drain(channel)
    [row] = _rows(channel, state=OutboxState.PENDING)
    assert row.attempts == 0 and report.throttled_until is not None
    health = connection_health(workspace_id=channel.workspace_id,
                               connection_id=channel.connection.id)
    assert health.throttled_until is not None and health.throttled_until > timezone.now()
    _drain(channel)  # still throttled: no call
    assert len(channel.platform.pushes()) == 1


class WorkerKilled(BaseException):
    """Stands in for SIGKILL: nothing after it runs, not even ``except Exception``."""


def test_a_push_interrupted_before_it_is_recorded_stays_pending(channel, monkeypatch):
    _receive(channel, M, 3)
    channel.platform.push_errors.append(WorkerKilled())
    with pytest.raises(WorkerKilled):
        _drain(channel)
    assert len(_rows(channel, state=OutboxState.PENDING)) == 1

    # The platform applied the push, then the worker died before marking the row done.
    def killed(**kwargs):
        raise WorkerKilled

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "outbox_mark_done", killed)
        with pytest.raises(WorkerKilled):
            _drain(channel)
    assert _shown(channel, M) == 3
    assert len(_rows(channel, state=OutboxState.PENDING)) == 1

    _drain(channel)  # the next drain settles it
    assert not _rows(channel, state=OutboxState.PENDING) and _shown(channel, M) == 3


def test_one_dispatcher_per_connection_and_a_dead_ones_lease_expires(channel):
    ws, cid = channel.workspace_id, channel.connection.id
    _receive(channel, M, 3)
    # Another worker holds the connection (and then dies without releasing it).
    assert dispatch_lease_take(workspace_id=ws, connection_id=cid, lease_s=60, token="other")
    assert _drain(channel).skipped and channel.platform.pushes() == []
    with workspace_scope(ws):
        Connection.objects.filter(id=cid).update(
            dispatch_lease_until=timezone.now() - timedelta(seconds=1))
    assert not _drain(channel).skipped and _shown(channel, M) == 3


@pytest.mark.django_db(transaction=True)  # two threads, two database connections
def test_two_workers_draining_one_connection_push_once(channel):
    from django.conf import settings
    from django.db import connections

    settings.HUEY.immediate = False  # the drain job the change enqueues is not run here
    try:
        _receive(channel, M, 3)
    finally:
        settings.HUEY.flush()
        settings.HUEY.immediate = True
    channel.platform.push_delay_s = 0.3
    barrier = threading.Barrier(2)
    reports = []

    def worker():
        try:
            barrier.wait(timeout=5)
            reports.append(_drain(channel))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.skipped for r in reports) == [False, True]
    assert len(channel.platform.pushes()) == 1 and _shown(channel, M) == 3


@pytest.mark.django_db(transaction=True)
def test_a_committed_stock_change_enqueues_the_drain_which_pushes(channel):
    from django.conf import settings

    huey = settings.HUEY
    huey.immediate = False
    huey.flush()
    try:
        _receive(channel, M, 4)
        assert channel.platform.pushes() == []  # nothing is sent inside the transaction
        assert huey.pending_count() == 1
        huey.execute(huey.dequeue())  # what a worker does
    finally:
        huey.flush()
        huey.immediate = True
    assert _shown(channel, M) == 4 and not _rows(channel, state=OutboxState.PENDING)


def test_pushed_rows_are_purged_after_a_week_and_dead_letters_kept(channel):
    _receive(channel, M, 1)
    _drain(channel)
    _receive(channel, L, 1)
    channel.platform.push_errors.append(AuthFailed("revoked", status=401))
    _drain(channel)
    assert outbox.outbox_purge_done() == 0  # pushed just now
    with workspace_scope(channel.workspace_id):
        OutboxItem.objects.filter(state=OutboxState.DONE).update(
            done_at=timezone.now() - timedelta(days=8))
    assert outbox.outbox_purge_done() == 1
    assert [r.state for r in _rows(channel)] == [OutboxState.DEAD]


def test_a_platform_without_a_connector_shows_on_the_health(channel, monkeypatch):
    from storesync.channels.connectors import registry

    monkeypatch.delitem(registry.MODULES, "ebay")
    _receive(channel, M, 1)
    report = _drain(channel)
    assert report.errors and _rows(channel, state=OutboxState.PENDING)
    health = connection_health(workspace_id=channel.workspace_id,
                               connection_id=channel.connection.id)
    assert "no connector" in health.last_error


def test_a_later_successful_push_settles_the_listings_dead_letters(channel):
    _receive(channel, M, 2)
    channel.platform.push_errors.append(AuthFailed("token revoked", status=401))
    _drain(channel)
    assert len(_rows(channel, state=OutboxState.DEAD)) == 1
    _receive(channel, M, 1)  # credentials fixed meanwhile; the next change goes through
    _drain(channel)
    assert _shown(channel, M) == 3 and _rows(channel, state=OutboxState.DEAD) == []


def test_one_refused_item_does_not_hold_back_the_others(channel):
    channel.platform.rejected_items[ITEM[L]] = "inventory item is not tracked"
    _receive(channel, M, 2)
    _receive(channel, L, 3)
    report = _drain(channel)
    assert (report.pushed, report.dead) == (1, 1) and _shown(channel, M) == 2
    [dead] = _rows(channel, state=OutboxState.DEAD)
    assert dead.listing_id == channel.listings[L].id and "not tracked" in dead.last_error
    health = connection_health(workspace_id=channel.workspace_id,
                               connection_id=channel.connection.id)
    assert "not tracked" in health.last_error and health.last_synced_at is not None
