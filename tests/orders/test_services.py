from __future__ import annotations

import uuid

import pytest
from django.db.models.signals import post_save, pre_save

from storesync.core.errors import Conflict, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level, Location
from storesync.inventory.services import InsufficientStock
from storesync.orders.models import Order
from storesync.orders.services import (
    AddressInput,
    LineInput,
    OrderInput,
    PaymentInput,
    order_cancel,
    order_create,
    order_fulfil,
)
from storesync.security.access import PersonalDataAccessError, personal_data_access
from tests.conftest import ACTOR
from tests.orders.conftest import PUNE

BENGALURU = AddressInput(name="Ravi K", line1="4 Brigade Rd", city="Bengaluru",
                         postcode="560001", province_code="KA")


def _level(ws, variant):
    with workspace_scope(ws):
        return Level.objects.get(variant=variant)


def test_order_reserves_stock_and_taxes_by_place_of_supply(shop):
    ws, variants, _ = shop
    local = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=2)], shipping_address=PUNE,
        email="Asha@Example.com",
        payments=[PaymentInput(kind="sale", amount_minor=179800, gateway="razorpay",
                               card_brand="visa", card_last4="4242")]))
    assert local.number == 1001 and local.financial_status == "paid"
    with workspace_scope(ws):
        line = local.lines.get()
    assert line.cgst_minor == line.sgst_minor > 0 and line.igst_minor == 0
    assert _level(ws, variants["KURTA-M"]).reserved == 2
    away = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=BENGALURU))
    assert away.number == 1002
    with workspace_scope(ws):
        away_line = away.lines.get()
    assert away_line.igst_minor > 0 and away_line.cgst_minor == 0
    assert away.total_minor == 89900 and away.tax_minor == away_line.igst_minor


def test_cancel_releases_and_fulfil_sells(shop):
    ws, variants, _ = shop
    m = variants["KURTA-M"]
    first = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=2)], shipping_address=PUNE))
    second = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE))
    order_cancel(workspace_id=ws, order_id=first.id, reason="customer", actor=ACTOR)
    order_fulfil(workspace_id=ws, order_id=second.id, actor=ACTOR)
    level = _level(ws, m)
    assert (level.on_hand, level.reserved) == (4, 0)
    with pytest.raises(Conflict):
        order_cancel(workspace_id=ws, order_id=second.id, reason="late", actor=ACTOR)
    with pytest.raises(Conflict):
        order_fulfil(workspace_id=ws, order_id=first.id, actor=ACTOR)


def test_order_beyond_stock_is_refused_and_writes_nothing(shop):
    ws, variants, _ = shop
    with pytest.raises(InsufficientStock):
        order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
            lines=[LineInput(sku="KURTA-L", quantity=1), LineInput(sku="KURTA-M", quantity=6)],
            shipping_address=PUNE))
    with workspace_scope(ws):
        assert not Order.objects.exists()
    assert _level(ws, variants["KURTA-L"]).reserved == 0
    nxt = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-L", quantity=1)], shipping_address=PUNE))
    assert nxt.number == 1001  # the failed attempt consumed no number


@pytest.mark.parametrize(("change", "field"), [
    ({"lines": []}, "lines"),
    ({"lines": [LineInput(sku="NOPE", quantity=1)]}, "lines.0.sku"),
    ({"lines": [LineInput(sku="KURTA-M", quantity=0)]}, "lines.0.quantity"),
    ({"email": "bad"}, "email"),
    ({"buyer_gstin": "27AAPFU0939F1ZX"}, "buyer_gstin"),
    ({"payments": [PaymentInput(kind="sale", amount_minor=1, card_last4="4111111111111111")]},
     "payments.0.card_last4"),
])
def test_bad_orders_name_the_field(shop, change, field):
    ws, _, _ = shop
    data = OrderInput(lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE)
    for key, value in change.items():
        setattr(data, key, value)
    with pytest.raises(ValidationError) as err:
        order_create(workspace_id=ws, actor=ACTOR, data=data)
    assert err.value.field == field


def test_buyer_contact_on_an_order_is_personal_data(shop):
    ws, _, _ = shop
    order = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE,
        email="asha@example.com"))
    with workspace_scope(ws):
        loaded = Order.objects.get(id=order.id)
    with pytest.raises(PersonalDataAccessError):
        _ = loaded.ship_line1
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="order_fulfilment"):
        assert (loaded.ship_name, loaded.ship_phone) == ("Asha Rao", "+919876543210")


def test_channel_order_imported_once(shop):
    ws, _, _ = shop
    data = OrderInput(lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE,
                      source="shopify", external_id="gid://shopify/Order/1")
    order_create(workspace_id=ws, actor=ACTOR, data=data)
    with pytest.raises(Conflict):
        order_create(workspace_id=ws, actor=ACTOR, data=data)


def test_order_rows_are_sent_with_the_orders_model_signals(shop):
    ws, _, _ = shop
    seen = []

    def on_save(sender, instance, **kwargs):
        seen.append((kwargs["signal"] is pre_save, kwargs.get("created"), instance.number))

    pre_save.connect(on_save, sender=Order, weak=False)
    post_save.connect(on_save, sender=Order, weak=False)
    try:
        order = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
            lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE))
    finally:
        pre_save.disconnect(on_save, sender=Order)
        post_save.disconnect(on_save, sender=Order)
    assert seen == [(True, None, order.number), (False, True, order.number)]
    # The returned order is a stored row: saving it again updates it.
    assert not order._state.adding
    with workspace_scope(ws):
        order.name = "#A-1"
        order.save(update_fields=["name"])
        assert Order.objects.get(id=order.id).name == "#A-1"


def test_the_location_and_the_workspace_currency_are_read_with_the_order(shop):
    ws, _, main = shop
    Workspace.objects.filter(id=ws).update(currency="USD")
    order = order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE,
        location_id=main.id))
    assert order.currency == "USD"
    with workspace_scope(ws):
        Location.objects.update(is_active=False)
    for location_id in (main.id, None):
        with pytest.raises(ValidationError) as err:
            order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
                lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE,
                location_id=location_id))
        assert err.value.field == "location_id"
    with pytest.raises(Workspace.DoesNotExist):
        order_create(workspace_id=uuid.uuid4(), actor=ACTOR, data=OrderInput(
            lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=PUNE))
