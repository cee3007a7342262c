"""PostgreSQL row-level security on every tenant table, installed after each migrate.

Policy: a row is visible and writable only when its ``workspace_id`` equals the connection's
``storesync.workspace_id`` setting, or when ``storesync.bypass_rls`` is ``on`` (system jobs).
``FORCE`` makes the policy bind the table owner too; PostgreSQL superusers still bypass RLS,
so production connects as an ordinary role (see docs/security.md), and ``rls_status`` says so.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connections
from django.db.models.signals import post_migrate

POLICY = "storesync_tenant_isolation"


def tenant_tables() -> list[str]:
    return sorted(
        m._meta.db_table
        for m in apps.get_models()
        if getattr(m, "tenant_rls", False) and not m._meta.proxy and m._meta.managed
    )


def install(using: str = "default") -> list[str]:
    conn = connections[using]
    if conn.vendor != "postgresql":
        return []
    existing = set(conn.introspection.table_names())
    tables = [t for t in tenant_tables() if t in existing]  # apps without migrations yet
    with conn.cursor() as cursor:
        for table in tables:
            name = conn.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {name}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {name} USING ("
                " current_setting('storesync.bypass_rls', true) = 'on'"
                " OR workspace_id::text = current_setting('storesync.workspace_id', true))"
            )
    return tables


def rls_enforced(using: str = "default") -> bool:
    """False when connected as a role that bypasses RLS (superuser or BYPASSRLS)."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return False
    with conn.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return not (row and row[0])


def _after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    if sender.label == "core":  # once per migrate run, after all apps are in place
        install(using)


def connect_signals() -> None:
    post_migrate.connect(_after_migrate, dispatch_uid="storesync_rls")
