"""Creating the configured database when it does not exist yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from psycopg import sql


def ensure_database_exists() -> None:
    """SQLite: create the directory. PostgreSQL: CREATE DATABASE when the named one is absent."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        return
    params: dict[str, Any] = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    try:
        with psycopg.connect(dbname=db["NAME"], connect_timeout=5, **params):
            return
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise CommandError(f"cannot reach PostgreSQL: {exc}".strip()) from None
    try:
        with psycopg.connect(
            dbname="postgres", autocommit=True, connect_timeout=5, **params
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    except psycopg.Error as exc:
        raise CommandError(
            f"database {db['NAME']!r} does not exist and could not be created: {exc}".strip()
        ) from None
