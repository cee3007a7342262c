"""Fault switches for tests, set through ``POST /_sandbox/faults`` (see ``server``).

Counters apply to the next N requests or deliveries and count down; ``latency_ms`` applies to
every API request until changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Faults:
    http_5xx: int = 0  # answer 503 (or ``status_5xx``) without running the request
    status_5xx: int = 503
    throttle: int = 0  # answer THROTTLED whatever the bucket holds
    malformed: int = 0  # answer 200 with a body that is not JSON
    timeout: int = 0  # hold the request ``timeout_s`` before answering
    lost_response: int = 0  # run the request, then hold the answer ``timeout_s``
    timeout_s: float = 10.0
    latency_ms: int = 0  # added to every API request
    privacy_refuse: int = 0  # refuse the next N customer erasures/updates/consents (userError)
    webhook_drop: int = 0  # never deliver the next N webhooks
    webhook_duplicate: int = 0  # deliver the next N webhooks twice (same ids)
    webhook_delay: int = 0  # hold the next N webhooks ``webhook_delay_s``: later ones overtake
    webhook_delay_s: float = 0.5
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, name: str) -> bool:
        """True (and one fewer left) when the counter ``name`` is armed."""
        with self._lock:
            left: int = getattr(self, name)
            if left <= 0:
                return False
            setattr(self, name, left - 1)
            return True

    def update(self, values: dict[str, Any]) -> dict[str, Any]:
        """Set the switches named in ``values``; unknown names raise ``KeyError``, negative
        values ``ValueError``."""
        known = {f.name: f.type for f in fields(self) if not f.name.startswith("_")}
        with self._lock:
            for name, value in values.items():
                if name not in known:
                    raise KeyError(name)
                current = getattr(self, name)
                converted = type(current)(value)
                if converted < 0:
                    raise ValueError(f"{name} must not be negative")
                setattr(self, name, converted)
            return {name: getattr(self, name) for name in known}
