"""Apply an order as the channel has it to the hub, through the orders app.

The mapping from the platform-neutral ``ChannelOrder`` to the orders app's
``ExternalOrderInput`` is deliberately field-for-field: the orders app decides what a new
version changes (it ignores stale versions, is idempotent per external id and flags SKUs it
cannot map), and the stock it reserves or releases reaches the outbox through inventory's
``stock_changed`` signal in the same transaction.
"""

from __future__ import annotations

from typing import Any

from storesync.channels.connectors.base import ChannelOrder
from storesync.channels.models import Connection
from storesync.security import audit


def apply_channel_order(*, connection: Connection, order: ChannelOrder,
                        actor: audit.Actor) -> Any:
    """Upsert ``order`` in the hub; returns the orders app's ``ExternalSyncResult``."""
    # Imported here: orders.external is built alongside this engine (see the ADR 0011).
    from storesync.customers.services import AddressInput
    from storesync.orders.external import (  # type: ignore[import-not-found, unused-ignore]
        ExternalLineInput,
        ExternalOrderInput,
        order_sync_external,
    )

    address = order.shipping_address
    data = ExternalOrderInput(
        external_id=order.external_id,
        name=order.name,
        placed_at=order.created_at,
        updated_at=order.updated_at,
        currency=order.currency,
        email=order.email,
        lines=[
            ExternalLineInput(external_id=line.external_id, sku=line.sku,
                              quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                              discount_minor=line.discount_minor, title=line.title)
            for line in order.lines
        ],
        shipping_address=AddressInput(
            line1=address.line1, line2=address.line2, city=address.city,
            postcode=address.postcode, province_code=address.province_code,
            country_code=address.country_code or "IN", name=address.name,
            phone=address.phone),
        shipping_minor=order.shipping_minor,
        financial_status=order.financial_status,
        cancelled_at=order.cancelled_at,
        buyer_gstin=order.buyer_gstin,
    )
    return order_sync_external(workspace_id=connection.workspace_id,
                               connection_id=connection.id, source=connection.platform,
                               data=data, actor=actor)
