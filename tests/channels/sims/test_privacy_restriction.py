"""Restrictions and their lifting told to both simulators (GDPR Art. 19; ADR 0025).

A buyer who ticked Shopify's marketing boxes at checkout, and who has an account and an order
on WooCommerce, restricts the processing of their data, then lifts it. Each request runs as in
production (verified, run by the job, propagated by the channels receiver over real HTTP) and
each simulator's own state shows what happened there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from storesync.channels.connectors.woocommerce.restriction import META_KEY
from storesync.channels.models import ConsentHold
from storesync.channels.sandbox.shopify import state as st
from storesync.core.tenancy import workspace_scope
from storesync.customers.services import ConsentInput
from storesync.privacy import propagation, services
from storesync.privacy.requests_models import DataSubjectRequest, Propagation, RequestStatus
from storesync.security.audit import AuditEvent
from tests.channels.sims.conftest import ACTOR, Bought, buy_on_both, shopify_control, woo_api
from tests.privacy.rights.conftest import submitted_and_verified

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "meera.iyer@example.com"
GRANTED = ConsentInput("subscribed", "checkout")


@pytest.fixture
def subscriber(workspace, shopify, woo) -> Bought:
    """Subscribed to email and SMS marketing on Shopify; the hub's ledger has her grant."""
    return buy_on_both(workspace, shopify, woo, EMAIL, accepts_marketing=True,
                       hub_marketing=GRANTED)


def _rows(ws: Any, request: Any, action: str) -> dict[str, Propagation]:
    with workspace_scope(ws):
        return {r.recipient_id: r for r in Propagation.objects.filter(
            request_id=request.id, action=action)}


def _status(ws: Any, request: Any) -> str:
    with workspace_scope(ws):
        return str(DataSubjectRequest.objects.get(id=request.id).status)


def _shopify_customer(shopify: Any, b: Bought) -> dict[str, Any]:
    """The customer as the simulator's state endpoint reports it."""
    state = httpx.get(f"{shopify.url}/_sandbox/state", timeout=10).json()
    wanted = st.gid("Customer", b.shopify_customer)
    return next(c for c in state["customers"] if c["id"] == wanted)


def _woo_meta(woo: Any, b: Bought) -> str:
    account = woo_api(woo, "GET", f"/customers/{b.woo_customer}")
    return str(next(m["value"] for m in account["meta_data"] if m["key"] == META_KEY))


def _woo_notes(woo: Any, b: Bought) -> list[str]:
    notes = woo_api(woo, "GET", f"/orders/{b.woo_order}/notes", params={"type": "internal"})
    return [n["note"] for n in notes]


def _lift(b: Bought, request: Any) -> None:
    services.restriction_lift(workspace_id=b.ws, request_id=request.id, actor=ACTOR)


def test_a_restriction_reaches_both_channels_as_each_can_take_it(subscriber, shopify, woo):
    b = subscriber
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)  # runs by itself

    rows = _rows(b.ws, request, "restriction")
    assert set(rows) == {str(b.shop.id), str(b.store.id)}
    assert {r.state for r in rows.values()} == {"succeeded"}, [r.last_error for r in
                                                               rows.values()]
    assert _status(b.ws, request) == RequestStatus.COMPLETED
    # Shopify: both marketing channels switched off, the tag says why
    seen = _shopify_customer(shopify, b)
    assert seen["email_marketing_state"] == "UNSUBSCRIBED"
    assert seen["sms_marketing_state"] == "UNSUBSCRIBED"
    assert seen["tags"] == ["privacy-restricted"]
    assert "email marketing set to UNSUBSCRIBED" in rows[str(b.shop.id)].note
    assert "does not enforce" in rows[str(b.shop.id)].note
    # WooCommerce: a record for the staff, and a note that says it is nothing more
    meta = _woo_meta(woo, b)
    assert "GDPR Art. 18" in meta and str(request.id) in meta
    assert meta in _woo_notes(woo, b)
    assert "WooCommerce itself does not enforce it" in rows[str(b.store.id)].note
    with workspace_scope(b.ws):
        held = {(h.channel, h.state, h.opt_in_level) for h in ConsentHold.objects.all()}
        calls = list(AuditEvent.objects.filter(action="channel.privacy_call",
                                               detail__action="restriction"))
        results = AuditEvent.objects.filter(action="privacy.propagation_result",
                                            detail__action="restriction").count()
        outcome = DataSubjectRequest.objects.get(id=request.id).outcome
    assert held == {("email", "SUBSCRIBED", "SINGLE_OPT_IN"),
                    ("sms", "SUBSCRIBED", "SINGLE_OPT_IN")}
    assert {(c.detail["platform"], c.detail["ok"]) for c in calls} == {
        ("shopify", True), ("woocommerce", True)}
    assert results == 2 and outcome["recipients"] == 2 and outcome["flag"] == "restricted"


def test_lifting_gives_back_what_the_restriction_took(subscriber, shopify, woo):
    b = subscriber
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    _lift(b, request)

    rows = _rows(b.ws, request, "restriction_lift")
    assert {r.state for r in rows.values()} == {"succeeded"}, [r.last_error for r in
                                                               rows.values()]
    assert _status(b.ws, request) == RequestStatus.COMPLETED
    seen = _shopify_customer(shopify, b)
    assert (seen["email_marketing_state"], seen["sms_marketing_state"]) == (
        "SUBSCRIBED", "SUBSCRIBED")
    assert seen["tags"] == []
    customer = shopify.shop.customers[b.shopify_customer]
    assert customer.email_marketing.opt_in_level == "SINGLE_OPT_IN"
    assert "given back as it was" in rows[str(b.shop.id)].note
    assert _woo_meta(woo, b).startswith("Nothing restricted: lifted")
    assert len(_woo_notes(woo, b)) >= 2  # the restriction's note, then the lift's
    with workspace_scope(b.ws):
        assert not ConsentHold.objects.exists()
        lifted = AuditEvent.objects.filter(action="channel.privacy_call",
                                           detail__action="restriction_lift").count()
    assert lifted == 2


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
def test_a_5xx_keeps_the_row_pending_and_a_retry_delivers_it(subscriber, shopify, woo,
                                                             platform):
    b = subscriber
    if platform == "shopify":  # more 503s than the client's own brief retries absorb
        shopify_control(shopify, "faults", {"http_5xx": 20})
    else:
        httpx.post(f"{woo.url}/_sandbox/faults", json={"error_count": 100,
                                                       "error_status": 500}, timeout=10)
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    connection = b.shop if platform == "shopify" else b.store
    row = _rows(b.ws, request, "restriction")[str(connection.id)]
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    # backed off: due again later, not at once
    assert row.next_attempt_at is not None and row.next_attempt_at > timezone.now()
    assert _status(b.ws, request) == RequestStatus.IN_PROGRESS
    assert _shopify_customer(shopify, b)["tags"] == ([] if platform == "shopify"
                                                     else ["privacy-restricted"])

    if platform == "shopify":
        shopify_control(shopify, "faults", {"http_5xx": 0})
    else:
        httpx.delete(f"{woo.url}/_sandbox/faults", timeout=10)
    propagation.propagation_retry(workspace_id=b.ws, propagation_id=row.id)
    assert _rows(b.ws, request, "restriction")[str(connection.id)].state == "succeeded"
    assert _status(b.ws, request) == RequestStatus.COMPLETED
    assert _shopify_customer(shopify, b)["email_marketing_state"] == "UNSUBSCRIBED"
    assert "GDPR Art. 18" in _woo_meta(woo, b)
    assert len(_woo_notes(woo, b)) == len(set(_woo_notes(woo, b)))  # no note twice


def test_a_refusing_shop_fails_after_the_last_attempt_and_a_later_retry_succeeds(
        subscriber, shopify):
    b = subscriber
    shopify_control(shopify, "faults", {"privacy_refuse": 100})
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    row = _rows(b.ws, request, "restriction")[str(b.shop.id)]
    for _ in range(propagation.MAX_ATTEMPTS):
        propagation.propagation_retry(workspace_id=b.ws, propagation_id=row.id)
    failed = _rows(b.ws, request, "restriction")[str(b.shop.id)]
    assert failed.state == "failed" and "could not be updated" in failed.last_error
    shopify_control(shopify, "faults", {"privacy_refuse": 0})
    propagation.propagation_retry(workspace_id=b.ws, propagation_id=row.id)
    assert _rows(b.ws, request, "restriction")[str(b.shop.id)].state == "succeeded"
    assert _status(b.ws, request) == RequestStatus.COMPLETED


def test_lifting_one_request_while_another_covers_marketing_keeps_it_off(subscriber, shopify):
    b = subscriber
    restriction = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    objection = submitted_and_verified(b.slug, "objection", email=EMAIL)
    assert sorted(_shopify_customer(shopify, b)["tags"]) == ["privacy-objected",
                                                            "privacy-restricted"]

    _lift(b, restriction)
    seen = _shopify_customer(shopify, b)
    assert seen["email_marketing_state"] == "UNSUBSCRIBED"  # the objection still stands
    assert seen["tags"] == ["privacy-objected"]

    _lift(b, objection)
    seen = _shopify_customer(shopify, b)
    assert (seen["email_marketing_state"], seen["tags"]) == ("SUBSCRIBED", [])


def test_without_a_grant_in_the_ledger_the_lift_leaves_marketing_off(
        workspace, shopify, woo):
    b = buy_on_both(workspace, shopify, woo, EMAIL, accepts_marketing=True)
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    _lift(b, request)
    row = _rows(b.ws, request, "restriction_lift")[str(b.shop.id)]
    assert row.state == "succeeded"
    assert "stay off" in row.note and "consent ledger does not allow marketing" in row.note
    seen = _shopify_customer(shopify, b)
    assert (seen["email_marketing_state"], seen["tags"]) == ("UNSUBSCRIBED", [])
    with workspace_scope(b.ws):
        assert not ConsentHold.objects.exists()


def test_a_consent_changed_on_shopify_since_the_restriction_is_left_alone(subscriber, shopify):
    b = subscriber
    request = submitted_and_verified(b.slug, "restriction", email=EMAIL)
    with shopify.shop.lock:  # the buyer unsubscribed from the shop's emails themselves, later
        customer = shopify.shop.customers[b.shopify_customer]
        later = customer.email_marketing.updated_at + timedelta(seconds=5)
        customer.email_marketing = st.MarketingConsent("UNSUBSCRIBED", None, later)
    _lift(b, request)
    row = _rows(b.ws, request, "restriction_lift")[str(b.shop.id)]
    assert "left as they are" in row.note
    seen = _shopify_customer(shopify, b)
    assert seen["email_marketing_state"] == "UNSUBSCRIBED"
    assert seen["sms_marketing_state"] == "SUBSCRIBED"  # untouched there: given back


def test_an_erasure_takes_the_kept_consents_with_the_person(subscriber, shopify):
    b = subscriber
    submitted_and_verified(b.slug, "restriction", email=EMAIL)
    with workspace_scope(b.ws):
        assert ConsentHold.objects.count() == 2
    erasure = submitted_and_verified(b.slug, "erasure", email=EMAIL)
    services.dsr_approve(workspace_id=b.ws, request_id=erasure.id, actor=ACTOR)
    with workspace_scope(b.ws):
        assert not ConsentHold.objects.exists()
    assert b.shopify_customer in shopify.shop.erased_customers
