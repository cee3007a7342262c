"""The one conditional UPDATE behind every stock change, returning the values it wrote.

``UPDATE inventory_level SET … WHERE id = … AND <guard> RETURNING on_hand, reserved`` is a
single statement: the database checks the guard, changes the row under the row lock the
UPDATE takes and hands back the values after the change, which go into the ledger row. Django's
``QuerySet.update`` returns only a row count, so the ledger had to read the row again; this
helper saves that round trip (ADR 0021). PostgreSQL and SQLite (3.35 and later) both support
``RETURNING``. ``level_updates`` sends the UPDATEs of several levels together, one round trip
on PostgreSQL (ADR 0027).

The SQL is written here, in one place, with the guards as a closed set of conditions: callers
cannot pass arbitrary SQL. The workspace is part of the WHERE clause because raw SQL does not go
through the scoped manager (PostgreSQL's row-level security still applies underneath).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from storesync.core.statement_batch import Statement, run_statements
from storesync.inventory.models import Level


@dataclass(frozen=True)
class Guard:
    """A condition the level must meet *before* the change, as SQL with its parameters."""

    sql: str
    params: tuple[int, ...]

    @classmethod
    def available_at_least(cls, quantity: int) -> Guard:
        """``quantity`` units free to promise: on hand minus reserved minus safety buffer."""
        return cls("on_hand >= reserved + safety_buffer + %s", (quantity,))

    @classmethod
    def on_hand_stays_covered(cls, delta: int) -> Guard:
        """After adding ``delta`` to on hand, it still covers what is reserved and is not
        negative."""
        return cls("on_hand + %s >= reserved AND on_hand + %s >= 0", (delta, delta))

    @classmethod
    def reserved_at_least(cls, quantity: int) -> Guard:
        return cls("reserved >= %s", (quantity,))


@dataclass(frozen=True)
class LevelAfter:
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class LevelChange:
    """Deltas for one level, applied only if ``guard`` holds."""

    level_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    guard: Guard | None


@functools.lru_cache(maxsize=16)
def _sql(guard_sql: str | None, vendor: str) -> str:
    """The UPDATE for one guard text (the closed set above); ``vendor`` keys the quoting."""
    meta = Level._meta
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    pk = meta.pk
    workspace = meta.get_field("workspace")
    assert pk is not None
    assert pk.column
    assert workspace.column
    condition = f" AND ({guard_sql})" if guard_sql else ""
    # Only identifiers from the model and the fixed guard texts are formatted in; every
    # value is a parameter.
    return (f"UPDATE {quote(meta.db_table)} SET on_hand = on_hand + %s, "  # noqa: S608
            "reserved = reserved + %s, version = version + 1, updated_at = %s "
            f"WHERE {quote(pk.column)} = %s AND {quote(workspace.column)} = %s{condition} "
            "RETURNING on_hand, reserved")


def _statement(change: LevelChange, workspace_id: uuid.UUID, now: datetime) -> Statement:
    conn = connections[DEFAULT_DB_ALIAS]
    meta = Level._meta
    pk = meta.pk
    assert pk is not None
    guard = change.guard
    return Statement(_sql(guard.sql if guard else None, conn.vendor), [
        change.on_hand_delta, change.reserved_delta,
        meta.get_field("updated_at").get_db_prep_value(now, conn),
        pk.get_db_prep_value(change.level_id, conn),
        meta.get_field("workspace").get_db_prep_value(workspace_id, conn),
        *(guard.params if guard else ())])


def _after(rows: list[tuple[Any, ...]] | None) -> LevelAfter | None:
    return LevelAfter(on_hand=rows[0][0], reserved=rows[0][1]) if rows else None


def level_update(*, level_id: uuid.UUID, workspace_id: uuid.UUID, on_hand_delta: int,
                 reserved_delta: int, now: datetime, guard: Guard | None) -> LevelAfter | None:
    """Add the deltas to one level (and bump its version) if ``guard`` holds.

    Returns the level's on hand and reserved after the change, or ``None`` when the guard
    failed (or no such level is in this workspace) and nothing was changed."""
    change = LevelChange(level_id, on_hand_delta, reserved_delta, guard)
    return _after(run_statements([_statement(change, workspace_id, now)])[0])


def level_updates(changes: Sequence[LevelChange], *, workspace_id: uuid.UUID,
                  now: datetime) -> list[LevelAfter | None]:
    """``level_update`` for several levels, in the order given, sent together (one round trip
    on PostgreSQL, ``core.statement_batch``); one result per change, ``None`` where the guard
    failed.

    Every UPDATE runs, even after one whose guard failed: the caller raises and its
    transaction (or savepoint) rolls the others back. The order given is the order the row
    locks are taken in, so callers pass primary-key order (no deadlock between two orders)."""
    results = run_statements([_statement(change, workspace_id, now) for change in changes])
    return [_after(rows) for rows in results]
