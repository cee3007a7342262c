"""How many SQL statements (and round trips) storing an order costs: pinned, so it cannot
creep back up.

Order creation was ~35 statements for two lines (ADR 0021); every one is a round trip to the
database inside the order's transaction, which holds the stock rows locked. On PostgreSQL the
statements whose inputs are known together are sent together (ADR 0027), so an order costs a
fixed number of round trips whatever its number of lines."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Movement, Reservation
from storesync.security import keyring
from tests.orders.conftest import paid_order

# Per order, whatever its size: location (with the workspace's currency), order number,
# variants, order, lines, payments, fulfillment order, blind-index keys and abandoned
# checkouts (the email), levels, ledger rows, reservations, channel listings (stock_changed),
# and the test transaction's SAVEPOINT/RELEASE. Plus one conditional UPDATE ... RETURNING per
# line. On PostgreSQL, the scope's two set_config calls too, but location, number and
# variants are one round trip, the order's four INSERTs one, the stock UPDATEs one and the
# ledger rows with the reservations one.
FIXED_STATEMENTS = 15
POSTGRES_ROUND_TRIPS = 12


def _statements(ws, *lines):
    with CaptureQueriesContext(connection) as ctx:
        order = paid_order(ws, *lines, email="asha@example.com")
    return order, [q["sql"] for q in ctx.captured_queries]


@pytest.fixture
def cached_active_key(monkeypatch):
    # The active data key is cached for seconds in production; in tests for 50 ms, which a
    # slow run could outlast between two orders and count one query more.
    monkeypatch.setattr(keyring, "ACTIVE_KEY_TTL_S", 3600.0)


def test_order_statements_are_bounded_and_only_stock_updates_grow_with_lines(shop,
                                                                           cached_active_key):
    ws, _, _ = shop
    paid_order(ws, ("KURTA-M", 1))  # first order: creates the counter, loads the data key
    one_line, one = _statements(ws, ("KURTA-M", 1))
    two_lines, two = _statements(ws, ("KURTA-M", 1), ("KURTA-L", 2))
    if connection.vendor == "postgresql":
        assert len(one) <= POSTGRES_ROUND_TRIPS, "\n".join(one)
        assert len(two) == len(one), "\n".join(two)  # the second line's UPDATE rides along
    else:
        assert len(one) <= FIXED_STATEMENTS + 1, "\n".join(one)
        assert len(two) <= FIXED_STATEMENTS + 2, "\n".join(two)
        # Only the conditional UPDATE is per line; lines, ledger rows and reservations are
        # one INSERT each, and the levels one SELECT.
        assert len(two) - len(one) == 1, "\n".join(two)
    sent = [statement for text in two for statement in text.split("; ")]
    level_updates = [s for s in sent if s.startswith('UPDATE "inventory_level"')]
    assert len(level_updates) == 2 and all("RETURNING" in s for s in level_updates)
    assert sum("orders_ordercounter" in s for s in sent) == 1
    assert not any(s.startswith('SELECT "inventory_level"."on_hand"') for s in sent)
    # ...and the order is whole: numbered in sequence, both lines held, both in the ledger
    # with the values the UPDATE returned.
    assert two_lines.number == one_line.number + 1
    with workspace_scope(ws):
        reserve = {m.level.variant.sku: (m.reserved_delta, m.reserved_after)
                   for m in Movement.objects.filter(reference=f"order:{two_lines.id}")
                   .select_related("level__variant")}
        held = sorted(Reservation.objects.filter(reference=f"order:{two_lines.id}")
                      .values_list("quantity", flat=True))
    assert reserve == {"KURTA-M": (1, 3), "KURTA-L": (2, 2)}
    assert held == [1, 2]
