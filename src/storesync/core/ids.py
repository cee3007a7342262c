"""Identifiers.

Primary keys are UUIDv7 (RFC 9562): generated in the application, so a row's identity is known
before it is written (field encryption binds ciphertext to it), and time-ordered, so B-tree
inserts stay local and ids sort by creation.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """A new RFC 9562 version-7 UUID: 48-bit Unix milliseconds, then 74 random bits."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


class HistoricIds:
    """UUIDv7s for rows describing a past moment (generated history, such as the demo shop):
    the timestamp is the moment's, and a counter in ``rand_a`` (RFC 9562, method 1) keeps ids
    made for the same millisecond in the order they were asked for, so that ids sort the way
    the events happened, as ids made at the time would have."""

    def __init__(self) -> None:
        self._last_ms = -1
        self._counter = 0

    def at(self, moment_ms: int) -> uuid.UUID:
        """An id for ``moment_ms`` (Unix milliseconds); moments must not go backwards."""
        ms = max(moment_ms, self._last_ms)
        if ms == self._last_ms:
            self._counter += 1
            if self._counter > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                ms, self._counter = ms + 1, 0
        else:
            self._counter = 0
        self._last_ms = ms
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        return uuid.UUID(int=((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76)
                         | (self._counter << 64) | (0b10 << 62) | rand_b)


def parse_id(value: uuid.UUID | str, *, what: str) -> uuid.UUID:
    """An id from a URL or a payload; a malformed one is NotFound like a missing one."""
    from storesync.core.errors import NotFound

    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"no such {what}") from None
