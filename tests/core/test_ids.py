"""Ids for generated history: UUIDv7 carrying the event's moment, in the order asked for."""

from __future__ import annotations

from storesync.core.ids import HistoricIds

MOMENT_MS = 1_760_000_000_000


def _ms(value) -> int:
    return value.int >> 80


def test_historic_ids_carry_the_moment_and_keep_their_order_within_a_millisecond():
    ids = HistoricIds()
    same = [ids.at(MOMENT_MS) for _ in range(5000)]  # more than the 12-bit counter holds
    assert same == sorted(same) and len(set(same)) == 5000
    assert all(value.version == 7 for value in same)
    assert _ms(same[0]) == MOMENT_MS and _ms(same[-1]) == MOMENT_MS + 1  # borrowed one ms
    later = ids.at(MOMENT_MS + 60_000)
    assert later > same[-1] and _ms(later) == MOMENT_MS + 60_000


def test_a_moment_that_goes_backwards_never_makes_an_earlier_id():
    ids = HistoricIds()
    first = ids.at(MOMENT_MS + 10)
    assert ids.at(MOMENT_MS) > first
