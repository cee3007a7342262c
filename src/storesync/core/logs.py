"""Structured JSON logs that never carry personal data or secrets.

Every record (structlog's and the standard library's, Django's included) goes through
``redact``: values under sensitive keys are replaced, and email addresses, phone numbers,
bearer tokens and storesync secrets inside any string are masked. Code should not log personal
data in the first place; this is the net under it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from storesync.core.context import request_id

SENSITIVE_KEYS = re.compile(
    r"(pass(word)?|secret|token|authorization|cookie|api[_-]?key|master[_-]?key|email|phone|"
    r"mobile|address|street|postcode|zip|name|ip|gstin|card|otp|code)$",
    re.IGNORECASE,
)
SAFE_KEYS = {
    "event",
    "level",
    "logger",
    "timestamp",
    "request_id",
    "workspace",
    "status",
    "method",
    "path",
    "duration_ms",
    "job",
    "task",
    "action",
    "count",
    "exc_info",
    "exception",
    "topic",
    "platform",
    "status_code",
}
PATTERNS = [
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (re.compile(r"\bsst_[A-Za-z0-9]+_[A-Za-z0-9_-]+"), "[token]"),
    # Phone numbers: international (+...), Indian 5+5 grouping, or a bare run of 10-13 digits.
    # Dates and times ("2026-11-25 02:48:27") must survive, so no dash-separated short groups.
    (re.compile(r"\+\d[\d\s-]{7,14}\d"), "[phone]"),
    (re.compile(r"(?<!\d)0?\d{5}\s\d{5}(?!\d)"), "[phone]"),
    (re.compile(r"(?<![\d.:-])\d{10,13}(?![\d.:-])"), "[phone]"),
]
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(key: str, value: Any) -> Any:
    if key not in SAFE_KEYS and SENSITIVE_KEYS.search(key):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    return value


def redact(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys and PII-shaped strings."""
    for key in list(event_dict):
        event_dict[key] = _clean(key, event_dict[key])
    return event_dict


def _add_request_id(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    rid = request_id.get()
    if rid:
        event_dict.setdefault("request_id", rid)
    return event_dict


def configure(level: str = "INFO", stream: Any = None) -> None:
    """Route structlog and the standard library through one JSON renderer with redaction."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_id,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,  # last before rendering, so tracebacks are scrubbed too
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)
