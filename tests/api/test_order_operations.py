"""Fulfillments, refunds, returns, draft orders and abandoned checkouts through the REST API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storesync.customers.services import AddressInput
from storesync.orders.external import ExternalLine, ExternalOrderInput, order_sync_external
from tests.api.test_commerce import ADDRESS, PRODUCT
from tests.conftest import ACTOR


@pytest.fixture
def shop(owner_api):
    product = owner_api.post("/api/v1/products", PRODUCT).json()
    location = owner_api.post("/api/v1/inventory/locations",
                              {"name": "Chennai", "province_code": "TN"}).json()
    red = product["variants"][0]["id"]
    owner_api.post("/api/v1/inventory/receive", {
        "variant_id": red, "location_id": location["id"], "quantity": 5})
    return location, red


def _order(api, quantity=3, paid=True):
    body = {"lines": [{"sku": "SAREE-RED", "quantity": quantity}], "shipping_address": ADDRESS,
            "email": "meera@example.com"}
    if paid:
        body["payments"] = [{"amount": f"{2499 * quantity}.00", "card_brand": "visa",
                             "card_last4": "1111"}]
    created = api.post("/api/v1/orders", body)
    assert created.status_code == 201, created.content
    return created.json()


def _level(api, variant):
    level = api.get(f"/api/v1/inventory/levels?variant_id={variant}").json()[0]
    return level["on_hand"], level["reserved"]


def test_partial_fulfillment_with_tracking(owner_api, shop):
    _, red = shop
    order = _order(owner_api)
    line = order["lines"][0]["id"]
    fos = owner_api.get(f"/api/v1/orders/{order['id']}/fulfillment-orders").json()
    assert [(fo["managed_by"], fo["status"], fo["lines"][0]["fulfillable_quantity"])
            for fo in fos] == [("merchant", "open", 3)]
    shipped = owner_api.post(f"/api/v1/orders/{order['id']}/fulfillments", {
        "fulfillment_order_id": fos[0]["id"], "lines": [{"line_id": line, "quantity": 2}],
        "tracking_company": "Blue Dart", "tracking_number": "BD123",
        "tracking_url": "https://bluedart.example.com/track/BD123"})
    assert shipped.status_code == 201, shipped.content
    assert (shipped.json()["name"], shipped.json()["lines"]) == (
        "#1001.1", [{"line_id": line, "quantity": 2}])
    assert _level(owner_api, red) == (3, 1)
    now = owner_api.get(f"/api/v1/orders/{order['id']}").json()
    assert now["fulfillment_status"] == "partial"
    assert now["lines"][0]["fulfillable_quantity"] == 1
    assert now["fulfillments"][0]["tracking_number"] == "BD123"
    too_many = owner_api.post(f"/api/v1/orders/{order['id']}/fulfillments",
                              {"lines": [{"line_id": line, "quantity": 2}]})
    assert too_many.status_code == 400
    assert too_many.json()["error"]["field"] == "lines.0.quantity"
    negative = owner_api.post(f"/api/v1/orders/{order['id']}/fulfillments",
                              {"lines": [{"line_id": line, "quantity": -1}]})
    assert negative.status_code == 422
    assert negative.json()["error"]["field"] == "lines.0.quantity"
    cancel = owner_api.post(f"/api/v1/orders/{order['id']}/cancel", {"reason": "customer"})
    assert cancel.status_code == 409 and "already shipped" in cancel.json()["error"]["message"]
    done = owner_api.post(f"/api/v1/orders/{order['id']}/fulfil").json()
    assert done["fulfillment_status"] == "fulfilled" and len(done["fulfillments"]) == 2
    assert _level(owner_api, red) == (2, 0)


def test_refunds_restock_and_refuse_too_much(owner_api, shop):
    _, red = shop
    order = _order(owner_api, quantity=2)
    line = order["lines"][0]["id"]
    owner_api.post(f"/api/v1/orders/{order['id']}/fulfil")
    refund = owner_api.post(f"/api/v1/orders/{order['id']}/refunds", {
        "amount": "2499.00", "lines": [{"line_id": line, "quantity": 1, "restock": True}]},
        **{"Idempotency-Key": "refund-1"})
    assert refund.status_code == 201, refund.content
    assert refund.json()["lines"][0]["restocked_quantity"] == 1
    again = owner_api.post(f"/api/v1/orders/{order['id']}/refunds", {
        "amount": "2499.00", "lines": [{"line_id": line, "quantity": 1, "restock": True}]},
        **{"Idempotency-Key": "refund-1"})
    assert again["Idempotent-Replayed"] == "true"
    assert _level(owner_api, red) == (4, 0)
    now = owner_api.get(f"/api/v1/orders/{order['id']}").json()
    assert (now["financial_status"], now["refunded"]) == ("partially_refunded", "2499.00")
    assert [t["kind"] for t in now["transactions"]] == ["sale", "refund"]
    for body, status, field in (
        ({"amount": "2499.01"}, 400, "amount"),
        ({"amount": "-1.00"}, 400, "amount"),
        ({"amount": "1.001"}, 400, "amount"),
        ({"lines": [{"line_id": line, "quantity": 2}]}, 400, "lines.0.quantity"),
        ({"lines": [{"line_id": line, "quantity": -2}]}, 422, "lines.0.quantity"),
    ):
        refused = owner_api.post(f"/api/v1/orders/{order['id']}/refunds", body)
        assert (refused.status_code, refused.json()["error"]["field"]) == (status, field), body
    owner_api.post(f"/api/v1/orders/{order['id']}/refunds", {
        "amount": "2499.00", "lines": [{"line_id": line, "quantity": 1}]})
    twice = owner_api.post(f"/api/v1/orders/{order['id']}/refunds", {
        "lines": [{"line_id": line, "quantity": 1}]})
    assert twice.status_code == 400 and twice.json()["error"]["field"] == "lines.0.quantity"
    final = owner_api.get(f"/api/v1/orders/{order['id']}").json()
    assert (final["financial_status"], final["refunded"]) == ("refunded", "4998.00")


def test_return_requested_and_received(owner_api, viewer_api, shop):
    _, red = shop
    order = _order(owner_api, quantity=2)
    line = order["lines"][0]["id"]
    early = owner_api.post(f"/api/v1/orders/{order['id']}/returns",
                           {"lines": [{"line_id": line, "quantity": 1}]})
    assert early.status_code == 400 and early.json()["error"]["field"] == "lines.0.quantity"
    owner_api.post(f"/api/v1/orders/{order['id']}/fulfil")
    opened = owner_api.post(f"/api/v1/orders/{order['id']}/returns", {
        "lines": [{"line_id": line, "quantity": 1, "reason": "wrong colour"}]})
    assert opened.status_code == 201 and opened.json()["status"] == "requested"
    path = f"/api/v1/orders/{order['id']}/returns/{opened.json()['id']}/receive"
    assert viewer_api.post(path, {"restock": True}).status_code == 403
    received = owner_api.post(path, {"restock": True})
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert _level(owner_api, red) == (4, 0)
    assert owner_api.post(path, {"restock": True}).status_code == 409
    assert _level(owner_api, red) == (4, 0)


def test_draft_order_lifecycle(owner_api, viewer_api, shop):
    _, red = shop
    created = owner_api.post("/api/v1/draft-orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 2}], "shipping_address": ADDRESS,
        "email": "meera@example.com", "discount": "100.00", "shipping": "50.00"},
        **{"Idempotency-Key": "draft-1"})
    assert created.status_code == 201, created.content
    draft = created.json()
    assert (draft["name"], draft["total"], draft["personal_data"]) == (
        "#D1", "4948.00", "included")
    assert _level(owner_api, red) == (5, 0)  # a draft holds nothing
    replay = owner_api.post("/api/v1/draft-orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 2}], "shipping_address": ADDRESS,
        "email": "meera@example.com", "discount": "100.00", "shipping": "50.00"},
        **{"Idempotency-Key": "draft-1"})
    assert replay.json()["id"] == draft["id"]
    path = f"/api/v1/draft-orders/{draft['id']}"
    tag = owner_api.get(path)["ETag"]
    changed = owner_api.patch(path, {"lines": [{"sku": "SAREE-RED", "quantity": 3}]},
                              **{"If-Match": tag})
    assert changed.status_code == 200 and changed.json()["subtotal"] == "7497.00"
    stale = owner_api.patch(path, {"note": "stale"}, **{"If-Match": tag})
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "If-Match"
    bad = owner_api.patch(path, {"lines": [{"sku": "NOPE", "quantity": 1}]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "lines.0.sku"
    seen = viewer_api.get(path).json()
    assert seen["personal_data"] == "withheld" and seen["email"] is None
    done = owner_api.post(f"{path}/complete", {"payments": []})
    assert done.status_code == 201, done.content
    order = done.json()
    assert (order["source"], order["total"], order["lines"][0]["quantity"]) == (
        "draft_order", "7447.00", 3)
    assert _level(owner_api, red) == (5, 3)
    again = owner_api.post(f"{path}/complete", {"payments": []})
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert _level(owner_api, red) == (5, 3)
    assert owner_api.patch(path, {"note": "late"}).status_code == 409
    assert len(owner_api.get("/api/v1/orders").json()["items"]) == 1
    assert owner_api.get("/api/v1/draft-orders?status=completed").json()["items"][0]["order_id"] \
        == order["id"]


def test_abandoned_checkouts_are_recovered_by_a_later_order(owner_api, viewer_api, shop):
    body = {"lines": [{"sku": "SAREE-RED", "quantity": 1, "unit_price": "2499.00"}],
            "abandoned_at": "2026-01-01T10:00:00Z", "email": "Meera@Example.com",
            "phone": "+91 94440 12345"}
    created = owner_api.post("/api/v1/abandoned-checkouts", body)
    assert created.status_code == 201, created.content
    checkout = created.json()
    assert (checkout["total"], checkout["email"], checkout["recovered_order_id"]) == (
        "2499.00", "meera@example.com", None)
    assert owner_api.get("/api/v1/abandoned-checkouts?recovered=false").json()["items"]
    order = _order(owner_api, quantity=1)
    recovered = owner_api.get(f"/api/v1/abandoned-checkouts/{checkout['id']}").json()
    assert recovered["recovered_order_id"] == order["id"]
    assert owner_api.get("/api/v1/abandoned-checkouts?recovered=false").json()["items"] == []
    seen = viewer_api.get("/api/v1/abandoned-checkouts").json()["items"][0]
    assert (seen["personal_data"], seen["email"], seen["phone"]) == ("withheld", None, None)
    bad = owner_api.post("/api/v1/abandoned-checkouts", {**body, "phone": "12"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "phone"
    negative = owner_api.post("/api/v1/abandoned-checkouts", {
        **body, "lines": [{"sku": "X", "quantity": 0, "unit_price": "1.00"}]})
    assert negative.status_code == 422
    assert negative.json()["error"]["field"] == "lines.0.quantity"


def test_orders_needing_attention_are_listed_apart(owner_api, workspace, shop):
    _order(owner_api, quantity=1)
    order_sync_external(
        workspace_id=workspace.workspace.id, connection_id=None, source="shopify",
        actor=ACTOR, data=ExternalOrderInput(
            external_id="9001", name="#9001", currency="INR",
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
            updated_at=datetime(2026, 11, 1, tzinfo=UTC),
            shipping_address=AddressInput(name="Ravi", line1="1 Main Rd", city="Mysuru",
                                          postcode="570001", province_code="KA"),
            lines=(ExternalLine("l1", "UNKNOWN-SKU", 1, 100000, title="Mystery"),)))
    flagged = owner_api.get("/api/v1/orders?attention=true").json()["items"]
    assert [o["name"] for o in flagged] == ["#9001"]
    assert "no variant has SKU 'UNKNOWN-SKU'" in flagged[0]["attention_reasons"][0]
    assert flagged[0]["lines"][0]["stock_reserved"] is False
    assert [o["name"] for o in owner_api.get("/api/v1/orders?attention=false").json()[
        "items"]] == ["#1001"]


def test_ids_of_another_workspace_in_bodies_are_not_found(owner_api, other_api, shop):
    from tests.conftest import CUSTOMER

    theirs = other_api.post("/api/v1/customers", CUSTOMER).json()
    their_location = other_api.post("/api/v1/inventory/locations", {"name": "Far"}).json()
    draft = owner_api.post("/api/v1/draft-orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 1}], "customer_id": theirs["id"]})
    assert draft.status_code == 404
    draft = owner_api.post("/api/v1/draft-orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 1}], "location_id": their_location["id"]})
    assert draft.status_code == 400 and draft.json()["error"]["field"] == "location_id"
    mine = _order(owner_api, quantity=1)
    product = other_api.post("/api/v1/products", {"title": "Theirs", "variants": [
        {"sku": "THEIRS-1", "price": "10.00"}]}).json()
    other_api.post("/api/v1/inventory/receive", {"variant_id": product["variants"][0]["id"],
                                                 "location_id": their_location["id"],
                                                 "quantity": 1})
    their_order = other_api.post("/api/v1/orders", {
        "lines": [{"sku": "THEIRS-1", "quantity": 1}], "shipping_address": ADDRESS}).json()
    their_fo = other_api.get(f"/api/v1/orders/{their_order['id']}/fulfillment-orders").json()
    shipped = owner_api.post(f"/api/v1/orders/{mine['id']}/fulfillments",
                             {"fulfillment_order_id": their_fo[0]["id"]})
    assert shipped.status_code == 404
    line = their_order["lines"][0]["id"]
    for path in ("fulfillments", "refunds", "returns"):
        response = owner_api.post(f"/api/v1/orders/{mine['id']}/{path}",
                                  {"lines": [{"line_id": line, "quantity": 1}]})
        assert response.status_code == 400, path
        assert response.json()["error"]["field"] == "lines.0.line_id"
    assert other_api.get(f"/api/v1/orders/{their_order['id']}").json()[
        "fulfillment_status"] == "unfulfilled"
