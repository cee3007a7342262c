"""The one conditional UPDATE behind every stock change, returning the values it wrote.

``UPDATE inventory_level SET … WHERE id = … AND <guard> RETURNING on_hand, reserved`` is a
single statement: the database checks the guard, changes the row under the row lock the
UPDATE takes and hands back the values after the change, which go into the ledger row. Django's
``QuerySet.update`` returns only a row count, so the ledger had to read the row again; this
helper saves that round trip (ADR 0021). PostgreSQL and SQLite (3.35 and later) both support
``RETURNING``.

The SQL is written here, in one place, with the guards as a closed set of conditions: callers
cannot pass arbitrary SQL. The workspace is part of the WHERE clause because raw SQL does not go
through the scoped manager (PostgreSQL's row-level security still applies underneath).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

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


def level_update(*, level_id: uuid.UUID, workspace_id: uuid.UUID, on_hand_delta: int,
                 reserved_delta: int, now: datetime, guard: Guard | None) -> LevelAfter | None:
    """Add the deltas to one level (and bump its version) if ``guard`` holds.

    Returns the level's on hand and reserved after the change, or ``None`` when the guard
    failed (or no such level is in this workspace) and nothing was changed."""
    meta = Level._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    workspace = meta.get_field("workspace")
    assert pk is not None
    assert pk.column
    assert workspace.column
    updated_at = meta.get_field("updated_at")
    condition = f" AND ({guard.sql})" if guard else ""
    # Only identifiers from the model and the fixed guard texts are formatted in; every
    # value is a parameter.
    sql = (f"UPDATE {quote(meta.db_table)} SET on_hand = on_hand + %s, "  # noqa: S608
           "reserved = reserved + %s, version = version + 1, updated_at = %s "
           f"WHERE {quote(pk.column)} = %s AND {quote(workspace.column)} = %s{condition} "
           "RETURNING on_hand, reserved")
    params = [on_hand_delta, reserved_delta,
              updated_at.get_db_prep_value(now, connection),
              pk.get_db_prep_value(level_id, connection),
              workspace.get_db_prep_value(workspace_id, connection),
              *(guard.params if guard else ())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else LevelAfter(on_hand=row[0], reserved=row[1])
