"""Abandoned checkouts: stored with encrypted contact, recovered by a later order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from storesync.core.errors import Conflict, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.orders.checkouts import (
    CheckoutInput,
    CheckoutLineInput,
    abandoned_checkout_create,
)
from storesync.orders.models import AbandonedCheckout
from storesync.security.access import PersonalDataAccessError, personal_data_access
from tests.conftest import ACTOR
from tests.orders.conftest import paid_order

CART = [CheckoutLineInput(sku="KURTA-M", quantity=2, unit_price_minor=89900, title="Kurta")]


def _checkout(ws, email="Asha@Example.com", **extra):
    return abandoned_checkout_create(workspace_id=ws, actor=ACTOR, data=CheckoutInput(
        lines=CART, abandoned_at=timezone.now() - timedelta(hours=2), email=email,
        phone="98765 43210", **extra))


def test_checkout_contact_is_encrypted_and_totals_are_computed(shop):
    ws, _, _ = shop
    checkout = _checkout(ws, shipping_minor=5000, external_id="c-1")
    assert (checkout.subtotal_minor, checkout.total_minor) == (179800, 184800)
    with workspace_scope(ws):
        loaded = AbandonedCheckout.objects.get(id=checkout.id)
    with pytest.raises(PersonalDataAccessError):
        _ = loaded.email
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="customer_support"):
        assert (loaded.email, loaded.phone) == ("asha@example.com", "+919876543210")
    with pytest.raises(Conflict):
        _checkout(ws, external_id="c-1")


def test_an_order_with_the_same_email_recovers_the_checkout(shop):
    ws, _, _ = shop
    mine, other = _checkout(ws), _checkout(ws, email="ravi@example.com")
    order = paid_order(ws, ("KURTA-M", 1), email="ASHA@example.com")
    with workspace_scope(ws):
        recovered = AbandonedCheckout.objects.get(id=mine.id)
        still_open = AbandonedCheckout.objects.get(id=other.id)
    assert recovered.recovered_order_id == order.id and recovered.recovered_at is not None
    assert still_open.recovered_order_id is None


def test_a_checkout_reported_after_its_order_is_recovered_at_once(shop):
    ws, _, _ = shop
    order = paid_order(ws, ("KURTA-M", 1), email="asha@example.com")
    late = _checkout(ws)  # abandoned two hours ago, reported only now, after the order
    assert late.recovered_order_id == order.id
    unrelated = _checkout(ws, email="ravi@example.com")
    assert unrelated.recovered_order_id is None


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": []}, "lines"),
    ({"lines": [CheckoutLineInput(sku="X", quantity=0, unit_price_minor=1)]}, "lines.0.quantity"),
    ({"lines": [CheckoutLineInput(sku="X", quantity=1, unit_price_minor=-1)]},
     "lines.0.unit_price"),
    ({"email": "nope"}, "email"),
    ({"phone": "12"}, "phone"),
    ({"abandoned_at": timezone.now() + timedelta(days=1)}, "abandoned_at"),
])
def test_bad_checkouts_name_the_field(shop, change, field):
    ws, _, _ = shop
    data = CheckoutInput(lines=CART, abandoned_at=timezone.now() - timedelta(hours=1))
    for key, value in change.items():
        setattr(data, key, value)
    with pytest.raises(ValidationError) as err:
        abandoned_checkout_create(workspace_id=ws, actor=ACTOR, data=data)
    assert err.value.field == field
