"""Fixtures of the orders tests: a shop with stock in Pune (MH) and a 3PL warehouse."""

from __future__ import annotations

import pytest

from storesync.core.tenancy import workspace_scope
from storesync.customers.services import AddressInput
from storesync.inventory import services as inventory
from storesync.inventory.models import Level
from storesync.orders.services import LineInput, OrderInput, PaymentInput, order_create
from tests.conftest import ACTOR

PUNE = AddressInput(name="Asha Rao", line1="12 MG Road", city="Pune", postcode="411001",
                    province_code="MH", phone="+91 98765 43210")


@pytest.fixture
def shop(stock):
    """Five of each kurta at the Pune warehouse (the default location)."""
    ws, variants, main, _ = stock
    with workspace_scope(ws):
        type(main).objects.filter(id=main.id).update(province_code="MH")
    for variant in variants.values():
        inventory.stock_receive(workspace_id=ws, variant_id=variant.id, location_id=main.id,
                                quantity=5, actor=ACTOR)
    return ws, variants, main


def level_of(ws, variant, location=None):
    with workspace_scope(ws):
        levels = Level.objects.filter(variant=variant)
        return (levels.filter(location=location) if location else levels).get()


def paid_order(ws, *lines: tuple[str, int], paid: bool = True, **extra):
    """An order of ``(sku, quantity)`` lines at 899.00 each, paid in full by card."""
    total = sum(q for _, q in lines) * 89900
    payments = [PaymentInput(kind="sale", amount_minor=total, gateway="razorpay",
                             card_brand="visa", card_last4="4242")] if paid else []
    return order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku=sku, quantity=q) for sku, q in lines], shipping_address=PUNE,
        payments=payments, **extra))
