"""Several SQL statements sent together: one round trip on PostgreSQL.

Inside an order's transaction every statement is a round trip to the server, and on a busy
machine each one waits for the server process to be scheduled: storing an order spent more
time in those waits than in the statements themselves (ADR 0027). Statements whose inputs are
all known up front (an order's rows, the conditional stock UPDATEs of its lines) are sent as
one query text on PostgreSQL: Django's psycopg 3 cursors bind parameters on the client and
send the text with the simple query protocol, which runs the statements in order, in the
caller's transaction, and stops at the first error (raised as Django's usual exception).
Each statement's rows are read back in order. SQLite runs in the process, so the statements
are run one by one there, as they are when the cursor binds on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Statement:
    """One statement with ``%s`` placeholders and its parameters (values only: identifiers
    are formatted in by the code that writes the SQL, from model metadata)."""

    sql: str
    params: Sequence[Any]
    # Called once the statement (and every one sent with it) has run without error.
    done: Callable[[], None] | None = None


def _sent_as_one(cursor: Any) -> bool:
    """Whether ``cursor`` can run several statements with parameters in one query text:
    a psycopg 3 client-side binding cursor (Django's default on PostgreSQL)."""
    try:
        from psycopg import ClientCursor
    except ImportError:  # SQLite-only installation
        return False
    return isinstance(getattr(cursor, "cursor", None), ClientCursor)


def run_statements(statements: Sequence[Statement]) -> list[Rows | None]:
    """Run the statements in order, in the caller's transaction (if any); returns each one's
    rows (``None`` for a statement that returns none, such as an INSERT without RETURNING).

    If one fails, the later ones do not run and the error is raised; statements before it
    may have run, so call this inside the transaction that has to roll back with them."""
    if not statements:
        return []
    conn = connections[DEFAULT_DB_ALIAS]
    results: list[Rows | None] = []
    with conn.cursor() as cursor:
        if len(statements) > 1 and _sent_as_one(cursor):
            cursor.execute("; ".join(s.sql for s in statements),
                           [p for s in statements for p in s.params])
            for position in range(len(statements)):
                if position:
                    cursor.nextset()
                results.append(None if cursor.description is None else cursor.fetchall())
        else:
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
                results.append(None if cursor.description is None else cursor.fetchall())
    for statement in statements:
        if statement.done is not None:
            statement.done()
    return results
