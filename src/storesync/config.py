"""Configuration read from ``STORESYNC_*`` environment variables.

Every variable is documented in the README. Defaults give the embedded mode: SQLite and an
SQLite-backed job queue in the data directory, so that a new user needs nothing installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A ``STORESYNC_*`` variable holds a value storesync cannot use."""


def _default_data_dir() -> Path:
    if os.environ.get("PYTEST_VERSION"):  # set by pytest (>= 8.2) for the whole session
        # A test run never touches the user's real data directory: its job queue would be
        # flushed by the tests, and two checkouts testing at once would delete each other's
        # SQLite test database. Each checkout tests in its own ``var/test``.
        return Path.cwd() / "var" / "test"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "storesync"


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


@dataclass(frozen=True)
class Config:
    """The environment, parsed once."""

    data_dir: Path
    database_url: str
    redis_url: str | None
    debug: bool
    https: bool
    allowed_hosts: list[str]
    master_key: str | None
    master_key_file: Path
    smtp_url: str | None
    email_from: str
    log_level: str
    max_body_bytes: int
    base_url: str

    @property
    def database_vendor(self) -> str:
        scheme = urlsplit(self.database_url).scheme
        return "postgresql" if scheme.startswith("postgres") else "sqlite"


def sqlite_path(url: str) -> Path:
    """The file a ``sqlite:///`` URL names; a path is always taken as absolute.

    ``sqlite:////srv/x.db`` and ``sqlite:///srv/x.db`` both mean ``/srv/x.db``: a relative
    database path would change with the working directory, which is never what a user wants.
    """
    rest = url[len("sqlite://") :]
    return Path("/" + rest.lstrip("/")) if rest.strip("/") else Path("")


def load() -> Config:
    """Read the ``STORESYNC_*`` environment variables, validating each."""
    data_dir = Path(os.environ.get("STORESYNC_DATA_DIR") or _default_data_dir()).expanduser()
    database_url = (
        os.environ.get("STORESYNC_DATABASE_URL") or f"sqlite:///{data_dir / 'storesync.db'}"
    )
    scheme = urlsplit(database_url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql"}:
        raise ConfigError(
            "STORESYNC_DATABASE_URL must be sqlite:///ABSOLUTE/PATH or "
            f"postgres://USER@HOST:PORT/DB, not a {scheme or 'schemeless'} URL"
        )
    if scheme == "sqlite" and not sqlite_path(database_url).is_absolute():
        raise ConfigError("STORESYNC_DATABASE_URL must look like sqlite:///ABSOLUTE/PATH")
    max_body = os.environ.get("STORESYNC_MAX_BODY_BYTES", str(1024 * 1024))
    if not max_body.isdigit():
        raise ConfigError("STORESYNC_MAX_BODY_BYTES must be a whole number of bytes")
    hosts = os.environ.get("STORESYNC_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=os.environ.get("STORESYNC_REDIS_URL") or None,
        debug=_flag("STORESYNC_DEBUG", False),
        https=_flag("STORESYNC_HTTPS", False),
        allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        master_key=os.environ.get("STORESYNC_MASTER_KEY") or None,
        master_key_file=Path(
            os.environ.get("STORESYNC_MASTER_KEY_FILE") or data_dir / "master.key"
        ).expanduser(),
        smtp_url=os.environ.get("STORESYNC_SMTP_URL") or None,
        email_from=os.environ.get("STORESYNC_EMAIL_FROM", "storesync <no-reply@localhost>"),
        log_level=os.environ.get("STORESYNC_LOG_LEVEL", "INFO").upper(),
        max_body_bytes=int(max_body),
        base_url=os.environ.get("STORESYNC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
    )
