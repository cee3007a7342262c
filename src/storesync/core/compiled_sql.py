"""Simple reads and updates of one table, with the statement compiled once per shape.

Building and compiling a queryset as small as ``Level.objects.filter(variant_id__in=…,
location_id__in=…)`` costs Django 300 to 500 µs of Python; the database answers it in a tenth
of that. Storing an order made seven such statements, which together cost more than all of its
writes (ADR 0027). ``tenant_rows`` and ``tenant_update`` cover what those hot statements
need and nothing more: filters on concrete fields with ``=`` (``None``: ``IS NULL``),
``__in``, ``__lt``, ``__lte``, ``__gt`` and ``__gte``, all of them ANDed; for reads one level of
``select_related`` (a foreign key, with the fields wanted from it), an order and a limit.

The statement text, its column list and the value converters are cached per *shape* (model,
filter names and list lengths, related fields, order, limit, database). Each call only
prepares its values through the fields' own ``get_db_prep_value`` and, for reads, builds the
instances with ``Model.from_db`` after the database's converters: the instances the ORM would
have loaded (fields not loaded are deferred, like ``only()``). Only identifiers from model
metadata are formatted into the SQL; every value is a parameter.

Tenant models are filtered to the current scope's workspace, as their scoped manager filters
them (system scope: every workspace; no scope: ``UnscopedQueryError``); row-level security
still applies underneath on PostgreSQL. Anything more complex belongs to the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from storesync.core.errors import UnscopedQueryError
from storesync.core.statement_batch import Statement, run_statements
from storesync.core.tenancy import TenantModel, current_scope

M = TypeVar("M", bound=models.Model)

Converter = Callable[[Any, Any, Any], Any]

# Lookup suffix -> SQL operator. ``in`` and the exact match (``=`` / ``IS NULL``) are apart.
_COMPARISONS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_IS_NULL = "isnull"
_IN = "in"
_EXACT = "exact"

# A filter's shape: (field name, lookup, list length for ``in``, else 0).
Shape = tuple[tuple[str, str, int], ...]


@dataclass(frozen=True)
class _Where:
    sql: str  # conditions ANDed, without the WHERE keyword ("" when there is none)
    # The field of each filter that takes values, and whether it takes a list.
    fields: tuple[tuple[Field[Any, Any], bool], ...]


@dataclass(frozen=True)
class _Select:
    sql: str
    where: _Where
    attnames: tuple[str, ...]
    related: tuple[tuple[models.ForeignKey[Any, Any], type[models.Model], tuple[str, ...]], ...]
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]


def _field(model: type[models.Model], name: str) -> Field[Any, Any]:
    """A concrete field (a column) of ``model`` by name or attribute name."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise TypeError(f"{model._meta.label}.{name} is not a column")
    return field


def _connection() -> BaseDatabaseWrapper:
    # The wrapper itself, not ``django.db.connection``: the proxy costs a lookup per attribute.
    return connections[DEFAULT_DB_ALIAS]


def _shape(model: type[models.Model],
           where: Mapping[str, Any]) -> tuple[bool, Shape, list[Any]] | None:
    """Whether the scope's workspace filters the rows, the filters' shape and their values
    (the workspace first); ``None`` when an empty ``__in`` list means no row can match."""
    values: list[Any] = []
    scoped = False
    if issubclass(model, TenantModel):
        scope = current_scope()
        if scope is None:
            raise UnscopedQueryError(f"{model.__name__} queried outside a scope")
        if not scope.system:  # system scope: every workspace, as the scoped manager has it
            values.append(scope.workspace_id)
            scoped = True
    shape: list[tuple[str, str, int]] = []
    for key, value in where.items():
        name, _, lookup = key.partition("__")
        lookup = lookup or _EXACT
        if lookup == _IN:
            items = list(value)
            if not items:
                return None
            shape.append((name, _IN, len(items)))
            values.append(items)
        elif lookup == _EXACT and value is None:
            shape.append((name, _IS_NULL, 0))
        elif lookup == _EXACT or lookup in _COMPARISONS:
            shape.append((name, lookup, 0))
            values.append(value)
        else:
            raise ValueError(f"unsupported lookup {key!r} (exact, in, lt, lte, gt, gte)")
    return scoped, tuple(shape), values


def _compile_where(model: type[models.Model], scoped: bool, shape: Shape, alias: str,
                   conn: BaseDatabaseWrapper) -> _Where:
    quote = conn.ops.quote_name
    prefix = f"{alias}." if alias else ""
    conditions, fields = [], []
    if scoped:
        workspace = _field(model, "workspace")
        conditions.append(f"{prefix}{quote(str(workspace.column))} = %s")
        fields.append((workspace, False))
    for name, lookup, size in shape:
        field = _field(model, name)
        column = f"{prefix}{quote(str(field.column))}"
        if lookup == _IS_NULL:
            conditions.append(f"{column} IS NULL")
            continue
        if lookup == _IN:
            conditions.append(f"{column} IN ({', '.join(['%s'] * size)})")
        else:
            conditions.append(f"{column} {_COMPARISONS.get(lookup, '=')} %s")
        fields.append((field, lookup == _IN))
    return _Where(" AND ".join(conditions), tuple(fields))


def _params(where: _Where, values: list[Any], conn: BaseDatabaseWrapper) -> list[Any]:
    params: list[Any] = []
    for (field, is_list), value in zip(where.fields, values, strict=True):
        if is_list:
            params.extend(field.get_db_prep_value(item, conn) for item in value)
        else:
            params.append(field.get_db_prep_value(value, conn))
    return params


def _concrete(model: type[models.Model], names: Sequence[str] | None) -> list[Field[Any, Any]]:
    """The concrete fields to load: all of them, or the primary key plus those named."""
    fields = list(model._meta.concrete_fields)
    if names is None:
        return fields
    pk = model._meta.pk
    assert pk is not None
    wanted = {pk.attname, *(_field(model, name).attname for name in names)}
    return [f for f in fields if f.attname in wanted]


@functools.lru_cache(maxsize=1024)
def _compile_select(model: type[models.Model], fields: tuple[str, ...] | None, scoped: bool,
                    shape: Shape, related: tuple[tuple[str, tuple[str, ...]], ...],
                    order_by: tuple[str, ...], limit: int | None, vendor: str) -> _Select:
    """One read's statement; ``vendor`` keys the cache (quoting and converters differ)."""
    conn = _connection()
    quote = conn.ops.quote_name
    meta = model._meta
    selected = _concrete(model, fields)
    columns = [f.get_col("t") for f in selected]
    joins, related_plan = [], []
    for i, (name, names) in enumerate(related):
        fk = meta.get_field(name)
        if not isinstance(fk, models.ForeignKey):
            raise TypeError(f"{meta.label}.{name} is not a foreign key")
        target = fk.related_model
        target_pk = target._meta.pk
        assert target_pk is not None
        alias = f"r{i}"
        target_fields = _concrete(target, names)
        columns.extend(f.get_col(alias) for f in target_fields)
        kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
        joins.append(f" {kind} {quote(target._meta.db_table)} {alias} ON "
                     f"{alias}.{quote(str(target_pk.column))} = t.{quote(str(fk.column))}")
        related_plan.append((fk, target, tuple(f.attname for f in target_fields)))
    where = _compile_where(model, scoped, shape, "t", conn)
    order = [f"t.{quote(str(_field(model, name.lstrip('-')).column))} "
             + ("DESC" if name.startswith("-") else "ASC") for name in order_by]
    select = ", ".join(f"{c.alias}.{quote(str(c.target.column))}" for c in columns)
    sql = (f"SELECT {select} FROM {quote(meta.db_table)} t{''.join(joins)}"  # noqa: S608
           + (f" WHERE {where.sql}" if where.sql else "")
           + (f" ORDER BY {', '.join(order)}" if order else "")
           + (f" LIMIT {int(limit)}" if limit is not None else ""))
    converters = []
    for position, column in enumerate(columns):
        found = (*conn.ops.get_db_converters(column), *column.get_db_converters(conn))
        if found:
            converters.append((position, tuple(found), column))
    return _Select(sql, where, tuple(f.attname for f in selected), tuple(related_plan),
                   tuple(converters))


@dataclass(frozen=True)
class Selection(Generic[M]):
    """A read ready to run: its statement (``None`` when no row can match, so nothing is
    sent) and how to turn the rows it returns into instances. ``run()`` sends it alone;
    ``core.statement_batch.run_statements`` can send its ``statement`` with others."""

    model: type[M]
    statement: Statement | None
    compiled: _Select | None

    def instances(self, fetched: Sequence[tuple[Any, ...]] | None) -> list[M]:
        if self.compiled is None or not fetched:
            return []
        conn = _connection()
        return [_instance(self.model, self.compiled, row, conn) for row in fetched]

    def run(self) -> list[M]:
        if self.statement is None:
            return []
        return self.instances(run_statements([self.statement])[0])


def select(model: type[M], *, where: Mapping[str, Any], fields: Sequence[str] | None = None,
           related: Mapping[str, Sequence[str]] | None = None, order_by: Sequence[str] = (),
           limit: int | None = None) -> Selection[M]:
    """The read of ``tenant_rows``, not sent yet."""
    shaped = _shape(model, where)
    if shaped is None:
        return Selection(model, None, None)
    scoped, shape, values = shaped
    conn = _connection()
    compiled = _compile_select(
        model, None if fields is None else tuple(fields), scoped, shape,
        tuple((name, tuple(names)) for name, names in (related or {}).items()),
        tuple(order_by), limit, conn.vendor)
    return Selection(model, Statement(compiled.sql, _params(compiled.where, values, conn)),
                     compiled)


def tenant_rows(model: type[M], *, where: Mapping[str, Any],
                fields: Sequence[str] | None = None,
                related: Mapping[str, Sequence[str]] | None = None,
                order_by: Sequence[str] = (), limit: int | None = None) -> list[M]:
    """The rows of ``model`` matching every filter of ``where``, as model instances.

    ``where`` maps ``field`` or ``field__<lookup>`` to a value (``field: None`` is ``IS
    NULL``; ``__in`` takes a list, and an empty one matches nothing without a query).
    ``fields`` limits the loaded fields (the primary key is always loaded); ``related``
    joins foreign keys in, each with the fields named (``select_related``)."""
    return select(model, where=where, fields=fields, related=related, order_by=order_by,
                  limit=limit).run()


def _instance(model: type[M], statement: _Select, fetched: tuple[Any, ...],
              conn: BaseDatabaseWrapper) -> M:
    row = list(fetched)
    for position, converters, column in statement.converters:
        value = row[position]
        for convert in converters:
            value = convert(value, column, conn)
        row[position] = value
    width = len(statement.attnames)
    obj = model.from_db(conn.alias, statement.attnames, row[:width])
    for fk, target, attnames in statement.related:
        values = row[width:width + len(attnames)]
        width += len(attnames)
        fk.set_cached_value(obj, None if values[0] is None
                            else target.from_db(conn.alias, attnames, values))
    return obj


@functools.lru_cache(maxsize=256)
def _compile_update(model: type[models.Model], scoped: bool, shape: Shape,
                    assigned: tuple[str, ...], vendor: str) -> tuple[str, _Where,
                                                                     tuple[Field[Any, Any], ...]]:
    conn = _connection()
    quote = conn.ops.quote_name
    fields = tuple(_field(model, name) for name in assigned)
    where = _compile_where(model, scoped, shape, "", conn)
    sets = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = (f"UPDATE {quote(model._meta.db_table)} SET {sets}"  # noqa: S608
           + (f" WHERE {where.sql}" if where.sql else ""))
    return sql, where, fields


def tenant_update(model: type[models.Model], *, where: Mapping[str, Any],
                  values: Mapping[str, Any]) -> int:
    """``UPDATE`` the rows of ``model`` matching ``where`` (as in ``tenant_rows``) to
    ``values`` (field name to value, prepared by the field); returns how many rows changed.

    Like ``QuerySet.update``: no signals, no ``auto_now`` (set such fields yourself)."""
    shaped = _shape(model, where)
    if shaped is None:
        return 0
    scoped, shape, filter_values = shaped
    conn = _connection()
    sql, compiled_where, fields = _compile_update(model, scoped, shape, tuple(values),
                                                  conn.vendor)
    params = [f.get_db_prep_save(value, conn) for f, value in zip(fields, values.values(),
                                                                   strict=True)]
    params.extend(_params(compiled_where, filter_values, conn))
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
