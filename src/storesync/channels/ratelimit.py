"""Client-side rate limiting shaped like each platform's own limit.

A connector asks ``throttle.wait(key, cost)`` before a call and reports what the platform
said afterwards with ``throttle.update(...)`` (Shopify returns its bucket in
``extensions.cost.throttleStatus``), so steady traffic never hits the platform's limit. The
key names one bucket (one shop/app pair); every worker that talks to that shop must share it.
``LocalThrottle`` shares it between the threads of one process (embedded mode); ``RedisThrottle``
shares it between processes and machines (production; ``registry.default_throttle`` picks).
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


# Refill, then take ``cost`` or say how long to wait, atomically in Redis. Time is Redis's own
# clock, so workers on machines with skewed clocks still agree on the bucket.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost, capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'available', 'at', 'capacity', 'rate')
local available, at = tonumber(state[1]), tonumber(state[2])
if state[3] then capacity = tonumber(state[3]); rate = tonumber(state[4]) end
if available == nil then available = capacity; at = now end
available = math.min(capacity, available + math.max(now - at, 0) * rate)
local need = math.min(cost, capacity)
local wait = 0
if available >= need then available = available - need else wait = (need - available) / rate end
redis.call('HSET', KEYS[1], 'available', tostring(available), 'at', tostring(now),
           'capacity', tostring(capacity), 'rate', tostring(rate))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""

_UPDATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('HSET', KEYS[1], 'available', ARGV[1], 'at', tostring(now), 'capacity', ARGV[2],
           'rate', ARGV[3])
redis.call('EXPIRE', KEYS[1], 3600)
return 1
"""


class RedisThrottle:
    """A token bucket per key in Redis, shared by every worker process on every machine."""

    def __init__(self, url: str, *, prefix: str = "storesync:throttle:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._take = self._redis.register_script(_TAKE)
        self._update = self._redis.register_script(_UPDATE)

    def wait(self, key: str, cost: float, *, capacity: float, restore_rate: float) -> float:
        waited = 0.0
        while True:
            pause = float(self._take(keys=[self._prefix + key],
                                     args=[cost, capacity, restore_rate]))
            if pause <= 0:
                return waited
            # Sleep the computed shortfall, then ask again: another worker may have taken
            # the refill in the meantime.
            time.sleep(pause)
            waited += pause

    def update(self, key: str, *, available: float, capacity: float,
               restore_rate: float) -> None:
        self._update(keys=[self._prefix + key],
                     args=[available, capacity, restore_rate])
