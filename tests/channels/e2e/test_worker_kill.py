"""A worker killed with SIGKILL in the middle of a push loses nothing: the outbox row stays
pending, and a restarted worker completes the push.

The test runs a real ``storesync worker`` process against this test's database (the SQLite
file or the PostgreSQL test database) and job queue, with jobs queued instead of run inline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db
from django.utils import timezone

from storesync.channels import tasks
from storesync.channels.models import Connection, OutboxItem, OutboxState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import stock_adjust
from tests.channels.e2e.conftest import ACTOR, STOCK, Hub, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    conf = settings.DATABASES["default"]
    if db.vendor == "sqlite":
        return f"sqlite:///{conf['NAME']}"
    return settings.CONFIG.database_url.rsplit("/", 1)[0] + f"/{conf['NAME']}"


class Worker:
    """``storesync worker`` as a child process, stopped (bounded) at the end."""

    def __init__(self, log: Path) -> None:
        env = dict(os.environ, STORESYNC_DATABASE_URL=_database_url(),
                   STORESYNC_MASTER_KEY=settings.CONFIG.master_key or "",
                   STORESYNC_BASE_URL=settings.CONFIG.base_url)
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "storesync.cli", "worker", "--workers", "2"],
            env=env, stdout=self.log, stderr=self.log)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def queued_jobs() -> Iterator[None]:
    """Jobs go to the real queue (the worker's), not run inline."""
    settings.HUEY.immediate = False
    settings.HUEY.flush()
    yield
    settings.HUEY.flush()
    settings.HUEY.immediate = True


def _woo_rows(hub: Hub) -> list[OutboxItem]:
    with workspace_scope(hub.workspace_id):
        return list(OutboxItem.objects.filter(connection_id=hub.connections["woocommerce"].id)
                    .exclude(state=OutboxState.DONE))


def _woo_leased(hub: Hub) -> bool:
    with workspace_scope(hub.workspace_id):
        return Connection.objects.filter(id=hub.connections["woocommerce"].id,
                                         dispatch_lease_until__isnull=False).exists()


@pytest.mark.slow
def test_a_worker_killed_mid_push_loses_nothing(hub: Hub, queued_jobs: None,
                                                tmp_path: Path) -> None:
    sku = hub.skus[0]
    wait_until(lambda: hub.shopify.deliverer.pending() == 0, what="setup webhooks")
    # Every WooCommerce call now takes 4 s: the kill lands while the push is in flight.
    hub.woo_control("POST", "faults", {"latency_ms": 4000})
    worker = Worker(tmp_path / "worker.log")
    try:
        stock_adjust(workspace_id=hub.workspace_id, variant_id=hub.variants[sku],
                     location_id=hub.location_id, delta=-4, reason="count", actor=ACTOR)
        wait_until(lambda: _woo_leased(hub), timeout_s=60, what="the worker to start pushing")
        time.sleep(0.5)
        worker.kill()
        (row,) = _woo_rows(hub)
        assert row.state == OutboxState.PENDING, "a push that never finished is not done"
    finally:
        worker.stop()
    hub.woo_control("DELETE", "faults")
    # The dead worker's leases run out by themselves (LEASE_S); the test does not wait for
    # them. Both: on a slow machine the worker may still have been pushing to Shopify too.
    with workspace_scope(hub.workspace_id):
        Connection.objects.filter(id__in=[c.id for c in hub.connections.values()]).update(
            dispatch_lease_until=timezone.now() - timedelta(seconds=1))
    restarted = Worker(tmp_path / "worker2.log")
    try:
        tasks.sweep_outboxes.call_local()  # what the minute's sweep does after a restart
        wait_until(lambda: hub.woo_qty(sku) == STOCK - 4 and not _woo_rows(hub),
                   timeout_s=60, what="the restarted worker to finish the push")
        wait_until(lambda: hub.shopify_qty(sku) == STOCK - 4, timeout_s=30,
                   what="Shopify to show the change")
    finally:
        restarted.stop()
