"""Fixtures for the staff UI: signed-in clients with or without TOTP, and a customer."""

from __future__ import annotations

import re
from collections.abc import Callable

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from storesync.core.services import CreatedWorkspace, invitation_accept, invitation_create
from storesync.customers.services import AddressInput, CustomerInput, customer_create
from storesync.web.auth import MFAAdapter
from tests.conftest import ACTOR

PASSWORD = "a-long-pass-phrase-9"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def enrol_totp(user) -> pyotp.TOTP:
    """What the activation page does, for tests that are not about enrolment."""
    secret = pyotp.random_base32()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP,
                                 data={"secret": MFAAdapter().encrypt(secret)})
    return pyotp.TOTP(secret)


def assert_no_inline_code(html: str, where: str = "") -> None:
    """The CSP forbids inline scripts and styles; pages must not need them."""
    assert not INLINE_SCRIPT.search(html), where
    assert " style=" not in html and "<style" not in html, where
    assert "javascript:" not in html and " onclick=" not in html, where


def add_member(created: CreatedWorkspace, role: str, email: str, *, totp: bool = True) -> Client:
    """A person invited into ``created``'s workspace with ``role``, signed in."""
    issued = invitation_create(workspace_id=created.workspace.id, email=email, role=role,
                               actor=ACTOR, invited_by_id=None)
    membership = invitation_accept(token=issued.token, password=PASSWORD)
    if totp:
        enrol_totp(membership.user)
    client = Client()
    client.force_login(membership.user)
    return client


@pytest.fixture
def member_client(workspace) -> Callable[..., Client]:
    def make(role: str, email: str | None = None, *, totp: bool = True) -> Client:
        return add_member(workspace, role, email or f"{role}@acme.example", totp=totp)

    return make


@pytest.fixture
def owner_client(workspace) -> Client:
    enrol_totp(workspace.owner)
    client = Client()
    client.force_login(workspace.owner)
    return client


@pytest.fixture
def customer(workspace):
    return customer_create(workspace_id=workspace.workspace.id, actor=ACTOR, data=CustomerInput(
        first_name="Zenobia", last_name="Quill", email="zenobia.quill@example.com",
        phone="+919812345671", tags=["vip"],
        address=AddressInput(line1="7 Quill Lane", city="Quillpur", postcode="560001",
                             country_code="IN")))


@pytest.fixture
def placed_order(stock):
    """Ten KURTA-M in the Pune warehouse, and order #1001 for two of them, paid by card."""
    from storesync.inventory.services import stock_receive
    from storesync.orders.services import LineInput, OrderInput, PaymentInput, order_create

    ws, variants, main, _store = stock
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id, location_id=main.id,
                  quantity=10, actor=ACTOR)
    return order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=2)], email="zenobia.quill@example.com",
        location_id=main.id, shipping_address=AddressInput(
            name="Zenobia Quill", line1="7 Quill Lane", city="Quillpur", postcode="560001",
            province_code="KA", country_code="IN", phone="+919812345671"),
        payments=[PaymentInput(kind="sale", amount_minor=179800, gateway="razorpay",
                               card_brand="visa", card_last4="4242")]))
