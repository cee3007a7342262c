"""Order numbers come from one upsert statement: concurrent orders never share a number."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order, OrderCounter
from storesync.orders.services import next_number
from tests.orders.conftest import paid_order


def test_numbers_and_draft_numbers_count_up_from_their_own_starts(workspace):
    ws = workspace.workspace.id
    with workspace_scope(ws):
        assert [next_number(ws), next_number(ws)] == [1001, 1002]
        assert [next_number(ws, draft=True), next_number(ws, draft=True)] == [1, 2]
        assert next_number(ws) == 1003
        counter = OrderCounter.objects.get()
    assert (counter.next_number, counter.next_draft_number) == (1004, 3)


def test_each_workspace_has_its_own_sequence(workspace, other_workspace):
    ws, other = workspace.workspace.id, other_workspace.workspace.id
    with workspace_scope(ws):
        assert next_number(ws) == 1001
    with workspace_scope(other):
        assert next_number(other) == 1001
    with workspace_scope(ws):
        assert next_number(ws) == 1002


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_distinct_consecutive_numbers(shop):
    ws, _, _ = shop
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def buyer() -> None:
        try:
            barrier.wait(timeout=10)
            paid_order(ws, ("KURTA-M", 1), paid=False)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer) for _ in range(5)]
    for t in threads:
        t.start()
    barrier.wait(timeout=10)  # the sixth party: the threads start together
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with workspace_scope(ws):
        numbers = sorted(Order.objects.values_list("number", flat=True))
    assert numbers == list(range(1001, 1006))
