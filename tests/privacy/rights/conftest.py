"""Fixtures of the privacy tests: a customer with orders, a checkout, and helpers that read
the verification code from the mail the request sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from storesync.customers.services import AddressInput, CustomerInput, customer_create
from storesync.inventory import services as inventory
from storesync.orders.checkouts import CheckoutInput, CheckoutLineInput, abandoned_checkout_create
from storesync.orders.services import LineInput, OrderInput, PaymentInput, order_create
from storesync.privacy import services
from tests.conftest import ACTOR

EMAIL = "meera.iyer@example.com"
PUNE = AddressInput(name="Meera Iyer", line1="12 MG Road", city="Pune", postcode="411001",
                    province_code="MH", phone="+91 98765 43210")
B2B_GSTIN = "27AAPFU0939F1ZV"


@dataclass
class Shop:
    ws: object
    slug: str
    customer: object
    orders: list
    checkout: object


def make_order(ws, *, customer=None, email=EMAIL, gstin="", quantity=1, placed_at=None):
    return order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=quantity)], shipping_address=PUNE,
        email=email, customer_id=customer.id if customer else None, buyer_gstin=gstin,
        placed_at=placed_at,
        payments=[PaymentInput(kind="sale", amount_minor=89900 * quantity, gateway="razorpay",
                               card_brand="visa", card_last4="4242")]))


@pytest.fixture
def after_commit_now(request, monkeypatch):
    """Tests run inside a transaction that never commits; run after-commit work at once
    (mails, jobs), as a committed transaction would. Transactional tests keep the real hook."""
    if "transactional_db" in request.fixturenames or "live_server" in request.fixturenames:
        return
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())


@pytest.fixture(autouse=True)
def _privacy_after_commit(after_commit_now):
    """Every privacy test sees its mails and jobs."""


@pytest.fixture
def shop(stock, workspace):
    ws, variants, main, _ = stock
    inventory.stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                            location_id=main.id, quantity=100, actor=ACTOR)
    customer = customer_create(workspace_id=ws, actor=ACTOR, data=CustomerInput(
        first_name="Meera", last_name="Iyer", email=EMAIL, phone="+91 98765 43210",
        address=PUNE))
    orders = [make_order(ws, customer=customer), make_order(ws, customer=customer,
                                                            gstin=B2B_GSTIN)]
    checkout = abandoned_checkout_create(workspace_id=ws, actor=ACTOR, data=CheckoutInput(
        lines=[CheckoutLineInput(sku="KURTA-L", quantity=1, unit_price_minor=89900)],
        abandoned_at=timezone.now() - timedelta(days=2), email=EMAIL))
    return Shop(ws, workspace.workspace.slug, customer, orders, checkout)


def code_in_mail(to: str) -> str:
    """The code of the latest mail sent to ``to``."""
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(r"Verification code: (\d{6})", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no code was mailed to {to}")


def link_in_mail(to: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(r"(/privacy/\S+/download/\S+)", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no download link was mailed to {to}")


def submitted_and_verified(slug: str, kind: str, email: str = EMAIL, **extra):
    request = services.dsr_submit(workspace_slug=slug, email=email, kind=kind,
                                  client_ip="203.0.113.7", **extra)
    return services.dsr_verify(workspace_slug=slug, request_id=request.id,
                               code=code_in_mail(email), client_ip="203.0.113.7")
