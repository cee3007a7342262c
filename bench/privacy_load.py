"""Bench-only bulk loader: fills a workspace with filler customers, orders and abandoned
checkouts by copying one real (encrypted) template row with ``INSERT ... SELECT`` over a
generated series (PostgreSQL ``generate_series``, SQLite a recursive CTE), in chunks, until a
row count or a time budget is reached.

Filler rows carry the template's ciphertext under new ids, so they could not be decrypted
(the associated data binds a ciphertext to its row): they exist to give the tables realistic
size and indexes. Their blind indexes are random, so no measured subject matches them. Never
use this outside benchmarks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.db import connection, models, transaction


def _uuid_sql() -> str:
    if connection.vendor == "postgresql":
        return "gen_random_uuid()"
    return "lower(hex(randomblob(16)))"


def _random16_sql() -> str:
    if connection.vendor == "postgresql":
        return "decode(md5(random()::text || s.i::text), 'hex')"
    return "randomblob(16)"


def _series(n: int) -> str:
    if connection.vendor == "postgresql":
        return f"generate_series(1, {n}) AS s(i)"
    return f"(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < {n}) " \
        "SELECT i FROM r) AS s"


def _key(model: type[models.Model], template_id: uuid.UUID) -> object:
    """The template row's primary key as the database takes it."""
    pk = model._meta.pk
    assert pk is not None
    return pk.get_db_prep_value(template_id, connection)


def _copy_parts(model: type[models.Model], overrides: dict[str, str]) -> tuple[str, str, str]:
    """The column list, the SELECT list (template columns, or the overriding expressions with
    ``{uuid}``/``{random16}`` expanded) and the subquery ``t`` reading the template row (its
    key is the one parameter)."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        column = connection.ops.quote_name(field.column)
        columns.append(column)
        expr = overrides.get(field.column, f"t.{column}")
        values.append(expr.format(uuid=_uuid_sql(), random16=_random16_sql()))
    pk = model._meta.pk
    assert pk is not None
    template = f"(SELECT * FROM {model._meta.db_table} WHERE {pk.column} = %s) AS t"
    return ", ".join(columns), ", ".join(values), template


def copy_rows(model: type[models.Model], template_id: uuid.UUID, n: int,
              overrides: dict[str, str]) -> None:
    """Insert ``n`` copies of one row, with SQL expressions (over ``s.i``, the row number, and
    ``t``, the template) replacing some columns; ``{uuid}``/``{random16}`` are expanded."""
    columns, values, template = _copy_parts(model, overrides)
    sql = (f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} "
           f"FROM {_series(n)}, {template}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_key(model, template_id)])


def copy_rows_per_parent(model: type[models.Model], template_id: uuid.UUID,
                         parent: type[models.Model], parent_where: str, params: list[object],
                         overrides: dict[str, str]) -> None:
    """Insert one copy of a row for each ``parent`` row (alias ``p``) in the template's
    workspace that ``parent_where`` selects: order lines for a range of filler orders, say.
    ``overrides`` are SQL expressions over ``p`` and ``t`` (the template), as in
    ``copy_rows``."""
    columns, values, template = _copy_parts(model, overrides)
    sql = (f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} FROM {template} "
           f"JOIN {parent._meta.db_table} AS p ON p.workspace_id = t.workspace_id "
           f"WHERE {parent_where}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [_key(model, template_id), *params])


def load_until(step: Callable[[int, int], None], *, total: int, chunk: int,
               budget_s: float) -> int:
    """Call ``step(offset, size)`` in chunks until ``total`` rows or ``budget_s`` seconds."""
    done, started = 0, time.perf_counter()
    while done < total and time.perf_counter() - started < budget_s:
        size = min(chunk, total - done)
        with transaction.atomic():
            step(done, size)
        done += size
    return done
