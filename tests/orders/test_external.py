"""Channel orders through ``order_sync_external``: stored once, versions applied in order."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.customers.services import AddressInput
from storesync.orders.external import (
    ExternalLine,
    ExternalOrderInput,
    ExternalRefund,
    ExternalRefundLine,
    order_refund_external,
    order_sync_external,
)
from storesync.orders.models import Order, OrderLine, Refund
from storesync.orders.selectors import order_list
from storesync.orders.services import PaymentInput, order_fulfil
from storesync.security.access import personal_data_access
from tests.conftest import ACTOR
from tests.orders.conftest import level_of

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ADDRESS = AddressInput(name="Meera Iyer", line1="9 Anna Salai", city="Chennai",
                       postcode="600002", province_code="TN", phone="+91 94440 12345")
ORDER = ExternalOrderInput(
    external_id="gid://shopify/Order/5001", name="#5001", created_at=T0, updated_at=T0,
    currency="INR", shipping_address=ADDRESS, email="meera@example.com",
    lines=(ExternalLine(external_id="li-1", sku="KURTA-M", quantity=2, unit_price_minor=89900,
                        title="Cotton Kurta - M"),),
    financial_status="paid",
    payments=(PaymentInput(kind="sale", amount_minor=179800, gateway="shopify_payments",
                           card_brand="visa", card_last4="4242", external_id="tx-1"),),
)


def sync(ws, data=ORDER):
    return order_sync_external(workspace_id=ws, connection_id=None, source="shopify",
                               data=data, actor=ACTOR)


def later(data, minutes, **changes):
    return replace(data, updated_at=data.updated_at + timedelta(minutes=minutes), **changes)


def test_a_new_channel_order_reserves_its_stock(shop):
    ws, variants, _ = shop
    result = sync(ws)
    assert (result.created, result.applied) == (True, True)
    assert result.stock_changed_variant_ids == {variants["KURTA-M"].id}
    order = result.order
    assert (order.name, order.source, order.number, order.needs_attention) == (
        "#5001", "shopify", 1001, False)
    assert (order.total_minor, order.financial_status) == (179800, "paid")
    assert level_of(ws, variants["KURTA-M"]).reserved == 2
    with workspace_scope(ws):
        line = OrderLine.objects.get(order=order)
        stored = Order.objects.get(id=order.id)
    assert (line.external_id, line.igst_minor > 0) == ("li-1", True)  # MH to TN: IGST
    with personal_data_access(actor=ACTOR, workspace_id=ws, purpose="order_fulfilment"):
        assert (stored.email, stored.ship_phone) == ("meera@example.com", "+919444012345")


def test_replaying_a_version_or_an_older_one_changes_nothing(shop):
    ws, variants, _ = shop
    sync(ws, replace(ORDER, financial_status="pending", payments=()))
    newer = later(ORDER, 5)
    assert sync(ws, newer).applied
    again = sync(ws, newer)
    assert (again.created, again.applied, again.stock_changed_variant_ids) == (
        False, False, frozenset())
    older = later(ORDER, 1, financial_status="pending", cancelled_at=T0, cancel_reason="fraud")
    stale = sync(ws, older)
    assert not stale.applied
    with workspace_scope(ws):
        order = Order.objects.get()
        assert order.transactions.count() == 1
    assert (order.financial_status, order.cancelled_at) == ("paid", None)
    assert order.external_updated_at == newer.updated_at
    assert level_of(ws, variants["KURTA-M"]).reserved == 2


def test_a_later_cancel_releases_the_reservation(shop):
    ws, variants, _ = shop
    sync(ws)
    result = sync(ws, later(ORDER, 3, cancelled_at=T0 + timedelta(minutes=3),
                            cancel_reason="customer", financial_status="voided"))
    assert result.applied and result.stock_changed_variant_ids == {variants["KURTA-M"].id}
    assert result.order.cancelled_at == T0 + timedelta(minutes=3)
    assert result.order.cancel_reason == "customer"
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (5, 0)
    again = sync(ws, later(ORDER, 4, cancelled_at=T0 + timedelta(minutes=3)))
    assert again.applied and again.stock_changed_variant_ids == frozenset()


def test_a_cancel_stamped_in_the_same_second_is_applied_once(shop):
    """Platforms stamp updated_at to the second, so the sale and its cancellation can carry
    the same stamp; the cancel still releases the stock. A same-second version with nothing
    one-way in it (perhaps the older one) changes nothing, not even the payment status."""
    ws, variants, _ = shop
    sync(ws)
    cancelled = replace(ORDER, cancelled_at=T0, cancel_reason="customer",
                        financial_status="voided")
    result = sync(ws, cancelled)
    assert result.applied and result.stock_changed_variant_ids == {variants["KURTA-M"].id}
    assert level_of(ws, variants["KURTA-M"]).reserved == 0
    assert result.order.financial_status == "paid"  # a same-second version may be the older
    replay = sync(ws, replace(ORDER, financial_status="pending"))
    assert not replay.applied
    with workspace_scope(ws):
        order = Order.objects.get()
    assert (order.financial_status, order.cancelled_at) == ("paid", T0)


def test_refunds_apply_once_and_restock_when_asked(shop):
    ws, variants, _ = shop
    m, large = variants["KURTA-M"], variants["KURTA-L"]
    two_lines = replace(ORDER, lines=(
        *ORDER.lines,
        ExternalLine(external_id="li-2", sku="KURTA-L", quantity=1, unit_price_minor=89900)))
    order = sync(ws, two_lines).order
    order_fulfil(workspace_id=ws, order_id=order.id, actor=ACTOR)
    assert (level_of(ws, m).on_hand, level_of(ws, large).on_hand) == (3, 4)
    refund = ExternalRefund(external_id="r-1", created_at=T0 + timedelta(days=2),
                            amount_minor=89900 * 2, lines=(
                                ExternalRefundLine("li-1", 1, restock=True),
                                ExternalRefundLine("li-2", 1, restock=False)))
    result = sync(ws, later(two_lines, 60, refunds=(refund,),
                            financial_status="partially_refunded"))
    assert result.stock_changed_variant_ids == {m.id}
    assert (level_of(ws, m).on_hand, level_of(ws, large).on_hand) == (4, 4)
    replayed = sync(ws, later(two_lines, 90, refunds=(refund,),
                              financial_status="partially_refunded"))
    assert replayed.applied and replayed.stock_changed_variant_ids == frozenset()
    assert level_of(ws, m).on_hand == 4
    with workspace_scope(ws):
        stored = Order.objects.get(id=order.id)
        assert Refund.objects.filter(order=stored).count() == 1
    assert (stored.refunded_minor, stored.financial_status) == (179800, "partially_refunded")


def test_a_refund_of_unshipped_units_releases_them(shop):
    ws, variants, _ = shop
    refund = ExternalRefund(external_id="r-9", created_at=T0, amount_minor=89900,
                            lines=(ExternalRefundLine("li-1", 1, restock=True),))
    result = sync(ws, replace(ORDER, refunds=(refund,)))
    assert result.created and result.stock_changed_variant_ids == {variants["KURTA-M"].id}
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (5, 1)


def test_a_refund_arriving_on_its_own_applies_once_and_is_skipped_inside_the_order(shop):
    ws, variants, _ = shop
    sync(ws)
    refund = ExternalRefund(external_id="r-10", created_at=T0, amount_minor=89900,
                            lines=(ExternalRefundLine("li-1", 1, restock=True),
                                   ExternalRefundLine("li-404", 1, restock=True)))

    def alone():
        return order_refund_external(workspace_id=ws, source="shopify", actor=ACTOR,
                                     order_external_id=ORDER.external_id, refund=refund)

    first = alone()
    assert first is not None and first.applied
    assert first.stock_changed_variant_ids == {variants["KURTA-M"].id}
    assert "li-404" in " ".join(first.order.attention_reasons)  # the line it could not find
    again = alone()
    assert again is not None and not again.applied and not again.stock_changed_variant_ids
    sync(ws, later(ORDER, 5, refunds=(refund,)))  # the same refund inside the order
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (5, 1)
    with workspace_scope(ws):
        assert Refund.objects.count() == 1
    assert order_refund_external(workspace_id=ws, source="shopify", actor=ACTOR,
                                 order_external_id="gid://shopify/Order/404",
                                 refund=refund) is None


def test_unmapped_lines_are_imported_without_stock_and_flagged(shop):
    ws, variants, _ = shop
    product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Tee", options=["Fit"], variants=[
            VariantInput(sku="TEE-1", price_minor=49900, options=["Regular"]),
            VariantInput(sku="tee-1", price_minor=49900, options=["Slim"])]))
    data = replace(ORDER, lines=(
        ExternalLine(external_id="a", sku="KURTA-M", quantity=1, unit_price_minor=89900),
        ExternalLine(external_id="b", sku="GHOST-9", quantity=1, unit_price_minor=100,
                     title="Gift wrap"),
        ExternalLine(external_id="c", sku="Tee-1", quantity=1, unit_price_minor=49900),
        ExternalLine(external_id="d", sku="TEE-1", quantity=1, unit_price_minor=49900),
    ))
    result = sync(ws, data)
    order = result.order
    assert result.stock_changed_variant_ids == {variants["KURTA-M"].id}
    assert order.needs_attention
    text = " ".join(order.attention_reasons)
    assert "no variant has SKU 'GHOST-9'" in text
    assert "SKU 'Tee-1' matches several variants (TEE-1, tee-1)" in text
    assert "SKU 'TEE-1' has no HSN code" in text
    with workspace_scope(ws):
        lines = {ln.external_id: ln for ln in OrderLine.objects.filter(order=order)}
    assert [lines[k].reserves for k in "abcd"] == [True, False, False, False]
    assert order.total_minor == 89900 + 100 + 49900 * 2
    assert level_of(ws, variants["KURTA-M"]).reserved == 1
    flagged = order_list(workspace_id=ws, attention=True).items
    sync(ws, replace(ORDER, external_id="clean-1"))
    assert [o.id for o in flagged] == [order.id]
    assert [o.external_id for o in order_list(workspace_id=ws, attention=False).items] == [
        "clean-1"]


def test_an_oversold_channel_order_still_holds_stock_and_is_flagged(shop):
    ws, variants, _ = shop
    data = replace(ORDER, lines=(ExternalLine(external_id="li-1", sku="KURTA-M", quantity=7,
                                              unit_price_minor=89900),))
    result = sync(ws, data)
    level = level_of(ws, variants["KURTA-M"])
    assert (level.on_hand, level.reserved) == (5, 7)
    assert result.order.needs_attention
    assert "oversold at Pune warehouse: 2 unit(s) short" in result.order.attention_reasons[0]


@pytest.mark.parametrize(("change", "field"), [
    ({"external_id": ""}, "external_id"),
    ({"currency": "RUPEES"}, "currency"),
    ({"financial_status": "maybe"}, "financial_status"),
    ({"lines": ()}, "lines"),
    ({"lines": (ExternalLine("x", "KURTA-M", -1, 100),)}, "lines.0.quantity"),
    ({"lines": (ExternalLine("x", "KURTA-M", 1, -100),)}, "lines.0.unit_price"),
    ({"refunds": (ExternalRefund("r", T0, -5),)}, "refunds.0.amount"),
    ({"payments": (PaymentInput(kind="sale", amount_minor=1, card_last4="4111111111111111"),)},
     "payments.0.card_last4"),
])
def test_malformed_channel_orders_are_refused_naming_the_field(shop, change, field):
    ws, _, _ = shop
    with pytest.raises(ValidationError) as err:
        sync(ws, replace(ORDER, **change))
    assert err.value.field == field
    with workspace_scope(ws):
        assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_of_one_order_store_it_once(shop):
    ws, variants, _ = shop
    barrier = threading.Barrier(4)
    results: list[tuple[bool, bool]] = []
    errors: list[BaseException] = []

    def importer() -> None:
        try:
            barrier.wait(timeout=10)
            result = sync(ws)
            results.append((result.created, result.applied))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=importer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [(False, False)] * 3 + [(True, True)]
    with workspace_scope(ws):
        assert Order.objects.count() == 1
    assert level_of(ws, variants["KURTA-M"]).reserved == 2


def test_the_order_remembers_its_connection_and_refuses_a_foreign_one(shop, other_workspace):
    from storesync.channels.services import connection_create

    ws, _, _ = shop
    mine = connection_create(workspace_id=ws, platform="shopify", name="Main store",
                             credentials={"token": "shpat_test"},
                             webhook_secret="s" * 32, actor=ACTOR)
    theirs = connection_create(workspace_id=other_workspace.workspace.id, platform="shopify",
                               name="Theirs", credentials={"token": "shpat_other"},
                               webhook_secret="t" * 32, actor=ACTOR)
    order = order_sync_external(workspace_id=ws, connection_id=mine.id, source="shopify",
                                data=ORDER, actor=ACTOR).order
    assert order.connection_id == mine.id
    with pytest.raises(NotFound):
        order_sync_external(workspace_id=ws, connection_id=theirs.id, source="shopify",
                            data=replace(ORDER, external_id="other-1"), actor=ACTOR)
    with workspace_scope(ws):
        assert Order.objects.count() == 1
