"""Privacy erasures and corrections carried to both simulators (issue 7, point 3; ADR 0019).

A buyer orders on Shopify and on WooCommerce; the hub imports both orders by reconciliation
(which also keeps each platform's customer id). A privacy request then runs as it does in
production: approved by staff, executed by the job, propagated by the channels receiver to
each simulator, every row tracked until the platform confirms.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from storesync.channels.models import ErasureTarget, OrderCustomer
from storesync.core.tenancy import workspace_scope
from storesync.privacy import propagation, services
from storesync.privacy.requests_models import DataSubjectRequest, Propagation, RequestStatus
from storesync.security.audit import AuditEvent
from tests.channels.sims.conftest import ACTOR, Bought, buy_on_both, shopify_control
from tests.privacy.rights.conftest import submitted_and_verified

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "meera.iyer@example.com"


@pytest.fixture
def bought(workspace, shopify, woo) -> Bought:
    return buy_on_both(workspace, shopify, woo, EMAIL)


def _rows(ws, request) -> dict[str, Propagation]:
    with workspace_scope(ws):
        return {r.recipient_id: r for r in Propagation.objects.filter(request_id=request.id)}


def _status(ws, request) -> str:
    with workspace_scope(ws):
        return DataSubjectRequest.objects.get(id=request.id).status


def _approved(b: Bought, kind: str, **extra: Any) -> Any:
    request = submitted_and_verified(b.slug, kind, email=EMAIL, **extra)
    services.dsr_approve(workspace_id=b.ws, request_id=request.id, actor=ACTOR)
    return request


def test_the_platform_customer_id_is_kept_with_each_imported_order(bought):
    with workspace_scope(bought.ws):
        links = {(str(link.connection_id), link.external_customer_id)
                 for link in OrderCustomer.objects.all()}
    assert links == {(str(bought.shop.id), f"gid://shopify/Customer/{bought.shopify_customer}"),
                     (str(bought.store.id), str(bought.woo_customer))}


def test_erasure_reaches_both_channels_and_completes(bought, shopify, woo):
    request = _approved(bought, "erasure")

    rows = _rows(bought.ws, request)
    assert {r.state for r in rows.values()} == {"succeeded"}, [r.last_error for r in rows.values()]
    assert set(rows) == {str(bought.shop.id), str(bought.store.id)}
    assert _status(bought.ws, request) == RequestStatus.COMPLETED
    # Shopify: the customer record is gone and its order keeps no contact
    assert bought.shopify_customer not in shopify.shop.customers
    assert bought.shopify_customer in shopify.shop.erased_customers
    (order,) = shopify.shop.orders.values()
    assert order.email == "" and not any(order.shipping_address.values())
    # WooCommerce: the order anonymised as core's eraser does, the account deleted
    store = woo.sandbox.store
    assert bought.woo_customer not in store.customers
    billing = store.orders[bought.woo_order]["billing"]
    assert billing["first_name"] == "[deleted]" and billing["email"] == "deleted@site.invalid"
    assert billing["phone"] == "+00 00000 00000" and billing["city"] == "[deleted]"
    assert store.orders[bought.woo_order]["shipping"]["address_1"] == "[deleted]"
    assert store.orders[bought.woo_order]["customer_id"] == 0
    with workspace_scope(bought.ws):
        # what to erase was kept only until the channels confirmed
        assert not ErasureTarget.objects.exists() and not OrderCustomer.objects.exists()
        calls = list(AuditEvent.objects.filter(action="channel.privacy_call"))
    assert {(c.detail["platform"], c.detail["ok"]) for c in calls} == {
        ("shopify", True), ("woocommerce", True)}


def test_a_refusing_channel_is_retried_and_shown_never_done_until_it_accepts(bought, shopify):
    shopify_control(shopify, "faults", {"privacy_refuse": 100})
    request = _approved(bought, "erasure")

    rows = _rows(bought.ws, request)
    refused = rows[str(bought.shop.id)]
    assert rows[str(bought.store.id)].state == "succeeded"
    assert refused.state == "pending" and refused.attempts == 1
    assert "Failed to request customer data erasure" in refused.last_error
    assert _status(bought.ws, request) == RequestStatus.IN_PROGRESS
    for _ in range(propagation.MAX_ATTEMPTS):  # staff press "retry now"; Shopify still says no
        propagation.propagation_retry(workspace_id=bought.ws, propagation_id=refused.id)
    failed = _rows(bought.ws, request)[str(bought.shop.id)]
    assert failed.state == "failed" and failed.last_error
    assert _status(bought.ws, request) == RequestStatus.IN_PROGRESS
    assert bought.shopify_customer in shopify.shop.customers  # nothing erased there yet

    shopify_control(shopify, "faults", {"privacy_refuse": 0})
    propagation.propagation_retry(workspace_id=bought.ws, propagation_id=refused.id)
    assert _rows(bought.ws, request)[str(bought.shop.id)].state == "succeeded"
    assert _status(bought.ws, request) == RequestStatus.COMPLETED
    assert bought.shopify_customer not in shopify.shop.customers


def test_a_woocommerce_outage_keeps_the_row_pending_with_its_error(bought, woo):
    httpx.post(f"{woo.url}/_sandbox/faults", json={"error_count": 100, "error_status": 500},
               timeout=10)
    request = _approved(bought, "erasure")
    row = _rows(bought.ws, request)[str(bought.store.id)]
    assert row.state == "pending" and "woocommerce refused" in row.last_error
    assert bought.woo_customer in woo.sandbox.store.customers
    httpx.delete(f"{woo.url}/_sandbox/faults", timeout=10)
    propagation.propagation_retry(workspace_id=bought.ws, propagation_id=row.id)
    assert _rows(bought.ws, request)[str(bought.store.id)].state == "succeeded"
    assert bought.woo_customer not in woo.sandbox.store.customers
    assert _status(bought.ws, request) == RequestStatus.COMPLETED


def test_an_unknown_customer_is_a_success_with_a_note(bought, shopify):
    with shopify.shop.lock:  # erased on Shopify by hand before the request
        shopify.shop.erase_customer(bought.shopify_customer)
    request = _approved(bought, "erasure")
    assert _rows(bought.ws, request)[str(bought.shop.id)].state == "succeeded"
    with workspace_scope(bought.ws):
        note = AuditEvent.objects.get(action="channel.privacy_call",
                                      detail__platform="shopify").detail["note"]
    assert "no longer exist" in note


def test_correction_is_pushed_to_both_channels(bought, shopify, woo):
    request = _approved(bought, "correction",
                        details={"last_name": "Iyer-Rao", "phone": "+91 99999 00000"})
    rows = _rows(bought.ws, request)
    assert {r.state for r in rows.values()} == {"succeeded"}, [r.last_error for r in rows.values()]
    assert _status(bought.ws, request) == RequestStatus.COMPLETED
    customer = shopify.shop.customers[bought.shopify_customer]
    assert (customer.last_name, customer.phone) == ("Iyer-Rao", "+91 99999 00000")
    account = woo.sandbox.store.customers[bought.woo_customer]
    assert account["last_name"] == "Iyer-Rao" and account["billing"]["last_name"] == "Iyer-Rao"
    assert account["billing"]["phone"] == "+91 99999 00000"
    assert account["first_name"] == "Meera"  # untouched


def test_a_restricted_customers_correction_is_held_not_pushed(bought, shopify, woo):
    submitted_and_verified(bought.slug, "restriction", email=EMAIL)  # runs by itself
    request = _approved(bought, "correction", details={"last_name": "Iyer-Rao"})
    rows = _rows(bought.ws, request)
    assert {r.state for r in rows.values()} == {"pending"}
    assert all("restricted" in r.last_error for r in rows.values())
    assert shopify.shop.customers[bought.shopify_customer].last_name == "Iyer"
    assert woo.sandbox.store.customers[bought.woo_customer]["last_name"] == "Iyer"
    assert _status(bought.ws, request) == RequestStatus.IN_PROGRESS
