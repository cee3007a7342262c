"""Statements sent together: in order, each one's rows back, one round trip on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from storesync.core.statement_batch import Statement, run_statements

TABLE = "statement_batch_probe"


@pytest.fixture
def probe_table(db):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, label varchar(40))")
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _labels() -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, label FROM {TABLE} ORDER BY id")
        return [tuple(row) for row in cursor.fetchall()]


def test_runs_in_order_and_returns_each_statements_rows(probe_table):
    with CaptureQueriesContext(connection) as ctx:
        results = run_statements([
            Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s), (%s, %s)",
                      [1, "kurta", 2, "dupatta; DROP TABLE x"]),
            Statement(f"SELECT label FROM {TABLE} WHERE id = %s", [2]),
            Statement(f"UPDATE {TABLE} SET label = %s WHERE id = %s RETURNING id", ["saree", 1]),
            Statement(f"SELECT label FROM {TABLE} WHERE id = %s", [99]),
        ])
    # A value is a value, even with a semicolon in it: parameters are bound, not spliced.
    assert results == [None, [("dupatta; DROP TABLE x",)], [(1,)], []]
    assert _labels() == [(1, "saree"), (2, "dupatta; DROP TABLE x")]
    # PostgreSQL gets one query text (one round trip); SQLite runs them one by one.
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 4)


def test_a_failing_statement_stops_the_rest_and_raises_the_usual_error(probe_table):
    done = []
    with pytest.raises(IntegrityError), transaction.atomic():
        run_statements([
            Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s)", [1, "kurta"],
                      done=lambda: done.append("first")),
            Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s)", [1, "again"]),
            Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s)", [3, "never"]),
        ])
    # Nothing is reported done, and the caller's transaction takes the first insert back.
    assert done == []
    assert _labels() == []


def test_done_runs_once_everything_ran(probe_table):
    done = []
    run_statements([
        Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s)", [1, "a"],
                  done=lambda: done.append(_labels())),
        Statement(f"INSERT INTO {TABLE} (id, label) VALUES (%s, %s)", [2, "b"]),
    ])
    assert done == [[(1, "a"), (2, "b")]]
    assert run_statements([]) == []
