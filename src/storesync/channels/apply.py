"""Apply an order as the channel has it to the hub, through the orders app.

The mapping from the platform-neutral ``ChannelOrder`` to the orders app's
``ExternalOrderInput`` is field for field: the orders app decides what a new version changes
(it ignores stale versions, is idempotent per external id and flags SKUs it cannot map), and
the stock it reserves or releases reaches the outbox through inventory's ``stock_changed``
signal in the same transaction.
"""

from __future__ import annotations

from storesync.channels.connectors.base import ChannelOrder, ChannelRefund
from storesync.channels.models import Connection
from storesync.channels.propagation import order_customer_record
from storesync.core.tenancy import workspace_scope
from storesync.customers.services import AddressInput
from storesync.orders.external import (
    ExternalLine,
    ExternalOrderInput,
    ExternalRefund,
    ExternalRefundLine,
    ExternalSyncResult,
    order_refund_external,
    order_sync_external,
)
from storesync.orders.services import PaymentInput
from storesync.security import audit


def external_refund(refund: ChannelRefund) -> ExternalRefund:
    return ExternalRefund(external_id=refund.external_id, created_at=refund.created_at,
                          amount_minor=refund.amount_minor,
                          lines=tuple(ExternalRefundLine(line_external_id=line.line_external_id,
                                                         quantity=line.quantity,
                                                         restock=line.restock)
                                      for line in refund.lines))


def external_order_input(order: ChannelOrder) -> ExternalOrderInput:
    """The orders app's input for a channel's order (no I/O)."""
    address = order.shipping_address
    return ExternalOrderInput(
        external_id=order.external_id,
        name=order.name,
        created_at=order.created_at,
        updated_at=order.updated_at,
        currency=order.currency,
        lines=tuple(
            ExternalLine(external_id=line.external_id, sku=line.sku, quantity=line.quantity,
                         unit_price_minor=line.unit_price_minor, title=line.title,
                         discount_minor=line.discount_minor, hsn_code=line.hsn_code)
            for line in order.lines),
        shipping_address=AddressInput(
            name=address.name, line1=address.line1, line2=address.line2, city=address.city,
            postcode=address.postcode, province_code=address.province_code,
            country_code=address.country_code or "IN", phone=address.phone),
        email=order.email,
        shipping_minor=order.shipping_minor,
        financial_status=order.financial_status,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        refunds=tuple(external_refund(refund) for refund in order.refunds),
        payments=tuple(
            PaymentInput(kind=payment.kind, amount_minor=payment.amount_minor,
                         gateway=payment.gateway, card_brand=payment.card_brand,
                         card_last4=payment.card_last4, external_id=payment.external_id)
            for payment in order.payments),
        buyer_gstin=order.buyer_gstin,
    )


def apply_channel_order(*, connection: Connection, order: ChannelOrder,
                        actor: audit.Actor) -> ExternalSyncResult:
    """Upsert ``order`` in the hub; the result names the variants whose stock moved. The
    platform's customer id is kept beside it, for privacy erasures and corrections."""
    result = order_sync_external(workspace_id=connection.workspace_id,
                                 connection_id=connection.id, source=connection.platform,
                                 data=external_order_input(order), actor=actor)
    if order.customer_external_id and result.applied:
        with workspace_scope(connection.workspace_id):
            order_customer_record(connection=connection, order_id=result.order.id,
                                  external_customer_id=order.customer_external_id)
    return result


def apply_channel_refund(*, connection: Connection, refund: ChannelRefund,
                         actor: audit.Actor) -> ExternalSyncResult | None:
    """Apply a refund that arrived on its own to its stored order (once per refund id: the
    same refund inside the order, from reconciliation, changes nothing). None when the order
    is not stored yet or the refund does not say which order it belongs to."""
    if not refund.order_external_id:
        return None
    return order_refund_external(workspace_id=connection.workspace_id,
                                 source=connection.platform,
                                 order_external_id=refund.order_external_id,
                                 refund=external_refund(refund), actor=actor)
