"""Token buckets: shared by the threads of a process, or by every worker through Redis."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings

from storesync.channels.connectors.registry import default_throttle
from storesync.channels.ratelimit import LocalThrottle, RedisThrottle


def test_the_default_throttle_matches_the_configuration():
    expected = RedisThrottle if settings.CONFIG.redis_url else LocalThrottle
    assert isinstance(default_throttle(), expected)


@pytest.mark.skipif(not settings.CONFIG.redis_url, reason="needs STORESYNC_REDIS_URL")
def test_two_workers_share_one_bucket_in_redis():
    key = f"test-{uuid.uuid4().hex}"
    first, second = (RedisThrottle(settings.CONFIG.redis_url) for _ in range(2))
    shape = {"capacity": 2.0, "restore_rate": 10.0}
    assert first.wait(key, 1, **shape) == 0
    assert second.wait(key, 1, **shape) == 0  # the same bucket: now empty
    started = time.monotonic()
    waited = first.wait(key, 1, **shape)
    elapsed = time.monotonic() - started
    assert 0.05 <= waited <= 0.5 and elapsed >= 0.05  # one unit refills in 0.1 s

    # The platform says the bucket is empty: every worker waits for the refill.
    second.update(key, available=0, capacity=2.0, restore_rate=10.0)
    assert first.wait(key, 1, **shape) > 0


def test_a_local_bucket_refills_at_its_rate():
    throttle = LocalThrottle()
    shape = {"capacity": 1.0, "restore_rate": 20.0}
    assert throttle.wait("k", 1, **shape) == 0
    assert 0.02 <= throttle.wait("k", 1, **shape) <= 0.2
