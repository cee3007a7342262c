"""Fixtures for the privacy engine: a customer and a subject handle for it."""

from __future__ import annotations

import pytest

from storesync.customers.services import AddressInput, CustomerInput, customer_create
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR


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
