"""Fixtures for the privacy engine: a customer and a subject handle for it."""

from __future__ import annotations

import pytest

from storesync.core.tenancy import workspace_scope
from storesync.customers.services import AddressInput, CustomerInput, customer_create
from storesync.inventory.services import stock_receive
from storesync.orders.models import Order
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR
from tests.orders.conftest import paid_order


def make_customer(workspace_id, email="asha.rao@example.com"):
    return customer_create(workspace_id=workspace_id, actor=ACTOR, data=CustomerInput(
        first_name="Asha", last_name="Rao", email=email, phone="+919812345671",
        address=AddressInput(line1="12 MG Road", city="Pune", postcode="411001",
                             province_code="MH", country_code="IN", name="Asha Rao",
                             phone="+919812345672")))


@pytest.fixture
def ws(workspace):
    return workspace.workspace.id


@pytest.fixture
def customer(ws):
    return make_customer(ws)


@pytest.fixture
def subject(customer):
    return Subject("customer", str(customer.id))


@pytest.fixture
def order(stock, customer):
    """A paid order of the customer, shipped to Pune, as loaded from the database."""
    ws, variants, main, _ = stock
    with workspace_scope(ws):
        type(main).objects.filter(id=main.id).update(province_code="MH")
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id, location_id=main.id,
                  quantity=5, actor=ACTOR)
    placed = paid_order(ws, ("KURTA-M", 1), email="asha.rao@example.com",
                        customer_id=customer.id)
    with workspace_scope(ws):
        return Order.objects.get(id=placed.id)
