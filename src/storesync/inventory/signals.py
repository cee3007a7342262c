"""Signals the inventory app sends; other apps listen without inventory importing them.

``stock_changed`` is sent by every ``inventory.services`` call that changes ``on_hand``,
``reserved`` or ``safety_buffer``, inside the same transaction, with keyword arguments
``workspace_id`` (UUID) and ``variant_ids`` (a frozenset of UUIDs). A receiver that writes rows
writes them in that transaction: they commit or roll back with the stock change. Receivers
must not do network I/O (enqueue work with ``transaction.on_commit`` instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.dispatch import Signal

stock_changed = Signal()


def send_stock_changed(*, workspace_id: uuid.UUID, variant_ids: Iterable[uuid.UUID]) -> None:
    """Tell listeners that the stock of these variants changed (call inside the transaction)."""
    ids = frozenset(variant_ids)
    if ids:
        stock_changed.send(sender=None, workspace_id=workspace_id, variant_ids=ids)
