"""Many rows of one tenant table written with one statement: updated (``tenant_bulk_update``)
or inserted (``tenant_bulk_insert``).

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` expression per field and row,
which costs about 2.5 ms of Python per row (a 100,000-row stock import spent four of its five
minutes there). ``tenant_bulk_update`` sends one ``UPDATE … WHERE id = %s AND workspace_id =
%s`` with ``executemany`` instead (pipelined by psycopg 3, a prepared loop in SQLite). Values
go through each field's own ``get_db_prep_save``, so they are stored exactly as ``save()``
would store them; row-level security still applies on PostgreSQL.

``tenant_bulk_insert`` is ``bulk_create`` for the few rows a hot service writes per call (an
order's lines, its ledger rows): Django rebuilds and recompiles its INSERT on every call,
which cost more than the database's work for a three-line order (ADR 0027). Here the
column list and statement head are built once per table; each value still comes from the
field's own ``pre_save`` and ``get_db_prep_save`` (skipped only for the types Django's plain
fields store unchanged, such as ``str`` in a ``CharField``), so encryption (with the row
identity as associated data), blind indexes and ``auto_now`` columns are stored exactly as
``save()`` stores them. ``insert_statements`` hands the statements over instead, to be sent
with others in one round trip (``core.statement_batch``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from storesync.core.errors import UnscopedQueryError
from storesync.core.statement_batch import Statement, run_statements
from storesync.core.tenancy import TenantModel, current_scope


def _field(model: type[TenantModel], name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", model._meta.get_field(name))


def tenant_bulk_update(objs: Sequence[TenantModel], fields: Sequence[str], *,
                       batch_size: int = 1000) -> int:
    """Write ``fields`` of every object to its row (same workspace only); returns the count.

    Call inside the transaction (and scope) that loaded and locked the objects; no signals,
    no ``auto_now``: set such fields yourself.
    """
    if not objs:
        return 0
    model = type(objs[0])
    columns = [_field(model, name) for name in fields]
    keys = [_field(model, "id"), _field(model, "workspace")]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in columns)
    # Only model metadata (table and column names, quoted) is formatted in; values are bound.
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
           f"WHERE {quote(str(keys[0].column))} = %s AND {quote(str(keys[1].column))} = %s")
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            cursor.executemany(sql, [
                [f.get_db_prep_save(getattr(obj, f.attname), connection)
                 for f in (*columns, *keys)]
                for obj in objs[start:start + batch_size]])
    return len(objs)


# Field classes whose ``get_db_prep_save`` returns a value of these exact types unchanged
# (Django's own classes only: a subclass may convert). Every other value, and every value of
# any other field, goes through the field (``_passes_through``).
_UNCHANGED: dict[type[Field[Any, Any]], tuple[type, ...]] = {
    models.CharField: (str,), models.TextField: (str,), models.SlugField: (str,),
    models.IntegerField: (int,), models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,), models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,), models.PositiveBigIntegerField: (int,),
    models.BooleanField: (bool,),
}


def _passes_through(field: Field[Any, Any], conn: BaseDatabaseWrapper) -> frozenset[type]:
    """The value types ``field`` stores exactly as given on this database (``None`` too)."""
    if isinstance(field, models.ForeignKey):
        return _passes_through(field.target_field, conn)
    kind = type(field)
    if kind is models.UUIDField and conn.features.has_native_uuid_field:
        return frozenset({uuid.UUID, type(None)})
    if kind in _UNCHANGED:
        return frozenset({*_UNCHANGED[kind], type(None)})
    return frozenset()


@dataclass(frozen=True)
class _Column:
    field: Field[Any, Any]
    attname: str
    own_pre_save: bool  # auto_now, encryption, blind index: ``pre_save`` computes the value
    unchanged: frozenset[type]  # value types stored as given, without the field's conversion


@functools.lru_cache(maxsize=256)
def _insert_plan(model: type[TenantModel], vendor: str) -> tuple[tuple[_Column, ...], str, str]:
    """The columns of ``model``'s INSERT, the statement's head and one row's placeholders.
    ``vendor`` keys the cache: quoting and conversions differ between databases."""
    conn = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not f.generated]
    quote = conn.ops.quote_name
    columns = tuple(_Column(f, f.attname, type(f).pre_save is not Field.pre_save,
                            _passes_through(f, conn)) for f in fields)
    names = ", ".join(quote(str(f.column)) for f in fields)
    # Only model metadata (table and column names, quoted) is formatted in; values are bound.
    head = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES "  # noqa: S608
    return columns, head, "(" + ", ".join(["%s"] * len(fields)) + ")"


def insert_statements(objs: Sequence[TenantModel]) -> list[Statement]:
    """The ``INSERT … VALUES (…), (…)`` statements (one per batch the database allows) that
    store new rows of one tenant model; the objects are marked saved once they have run.

    What ``QuerySet.bulk_create`` does for rows whose primary key is already set (every tenant
    model's ``uuid7`` default), minus rebuilding the statement: no model signals, rows refused
    outside a scope or into another workspace than the scope's, as ``TenantModel.save``
    refuses them. Values are computed here (``pre_save`` included: encryption, ``auto_now``).
    Run them with ``run_statements``, alone or with other statements."""
    if not objs:
        return []
    model = type(objs[0])
    scope = current_scope()
    if scope is None:
        raise UnscopedQueryError(f"{model.__name__} inserted outside a scope")
    for obj in objs:
        if type(obj) is not model:
            raise TypeError(f"one model per insert: {type(obj).__name__} among {model.__name__}")
        if obj.workspace_id is None and scope.workspace_id is not None:
            obj.workspace_id = scope.workspace_id
        if not scope.system and obj.workspace_id != scope.workspace_id:
            raise UnscopedQueryError(f"{model.__name__} inserted into another workspace")
        if obj.pk is None:
            raise ValueError(f"{model.__name__} rows are inserted with their primary key set")
        # Refuses a row pointing at an unsaved related object, as bulk_create does.
        cast(Any, obj)._prepare_related_fields_for_save(operation_name="insert_statements")
    conn = connections[DEFAULT_DB_ALIAS]  # resolved once: the proxy costs per attribute
    columns, head, row = _insert_plan(model, conn.vendor)
    batch = max(conn.ops.bulk_batch_size([c.field for c in columns], objs), 1)
    statements = []
    for start in range(0, len(objs), batch):
        chunk = objs[start:start + batch]
        params: list[Any] = []
        for obj in chunk:
            for column in columns:
                value = (column.field.pre_save(obj, True) if column.own_pre_save
                         else getattr(obj, column.attname))
                params.append(value if type(value) in column.unchanged
                              else column.field.get_db_prep_save(value, conn))
        statements.append(Statement(head + ", ".join([row] * len(chunk)), params,
                                    done=functools.partial(_mark_saved, chunk, conn.alias)))
    return statements


def _mark_saved(objs: Sequence[TenantModel], alias: str) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


def tenant_bulk_insert(objs: Sequence[TenantModel]) -> None:
    """Insert new rows of one tenant model now (see ``insert_statements``), in the caller's
    transaction if any."""
    run_statements(insert_statements(objs))
