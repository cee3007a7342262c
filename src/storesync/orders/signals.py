"""Signals the orders app sends; other apps listen without orders importing them.

``fulfillment_created`` is sent by ``orders.fulfillment.fulfillment_create`` when it ships
lines of an order that came from a sales channel (an order with a ``connection``), inside the
same transaction, with keyword arguments ``workspace_id``, ``order_id``, ``fulfillment_id``
and ``connection_id`` (UUIDs). A receiver that writes rows writes them in that transaction:
they commit or roll back with the shipment. Receivers must not do network I/O (enqueue work
with ``transaction.on_commit`` instead).
"""

from __future__ import annotations

import uuid

from django.dispatch import Signal

fulfillment_created = Signal()


def send_fulfillment_created(*, workspace_id: uuid.UUID, order_id: uuid.UUID,
                             fulfillment_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    """Tell listeners a channel order shipped (call inside the transaction)."""
    fulfillment_created.send(sender=None, workspace_id=workspace_id, order_id=order_id,
                             fulfillment_id=fulfillment_id, connection_id=connection_id)
