"""Client-side rate limiting shaped like each platform's own limit.

A connector asks ``throttle.wait(key, cost)`` before a call and reports what the platform
said afterwards with ``throttle.update(...)`` (Shopify returns its bucket in
``extensions.cost.throttleStatus``), so steady traffic never hits the platform's limit. The
key names one bucket (one shop/app pair); every worker that talks to that shop must share it.
``LocalThrottle`` shares it between the threads of one process (embedded mode); a Redis-backed
implementation shares it between processes (production).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol


class Throttle(Protocol):
    def wait(self, key: str, cost: float, *, capacity: float, restore_rate: float) -> float:
        """Block until ``cost`` units are available in the bucket ``key`` and take them.

        ``capacity`` and ``restore_rate`` (units per second) shape a bucket the first time it
        is seen; ``update`` corrects them from the platform's answers. Returns seconds waited.
        """
        ...

    def update(self, key: str, *, available: float, capacity: float,
               restore_rate: float) -> None:
        """Replace the bucket's state with what the platform reported."""
        ...


@dataclass
class _Bucket:
    available: float
    capacity: float
    restore_rate: float
    at: float


class LocalThrottle:
    """A token bucket per key, shared by the threads of this process."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refill(self, bucket: _Bucket, now: float) -> None:
        bucket.available = min(bucket.capacity,
                               bucket.available + (now - bucket.at) * bucket.restore_rate)
        bucket.at = now

    def wait(self, key: str, cost: float, *, capacity: float, restore_rate: float) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                bucket = self._buckets.setdefault(
                    key, _Bucket(capacity, capacity, restore_rate, now))
                self._refill(bucket, now)
                # A single call dearer than the whole bucket waits for a full bucket only.
                need = min(cost, bucket.capacity)
                if bucket.available >= need:
                    bucket.available -= need
                    return waited
                pause = (need - bucket.available) / bucket.restore_rate
            time.sleep(pause)
            waited += pause

    def update(self, key: str, *, available: float, capacity: float,
               restore_rate: float) -> None:
        with self._lock:
            self._buckets[key] = _Bucket(available, capacity, restore_rate, time.monotonic())
