"""Per-request and per-job context that logs carry (never personal data)."""

from __future__ import annotations

import contextvars
import secrets

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def new_request_id() -> str:
    return secrets.token_hex(8)
