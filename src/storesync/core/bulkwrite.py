"""Many rows of one tenant table updated with one prepared statement.

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` expression per field and row,
which costs about 2.5 ms of Python per row (a 100,000-row stock import spent four of its five
minutes there). ``tenant_bulk_update`` sends one ``UPDATE … WHERE id = %s AND workspace_id =
%s`` with ``executemany`` instead (pipelined by psycopg 3, a prepared loop in SQLite). Values
go through each field's own ``get_db_prep_save``, so they are stored exactly as ``save()``
would store them; row-level security still applies on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field

from storesync.core.tenancy import TenantModel


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
