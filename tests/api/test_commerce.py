"""Products, stock and orders through the REST API."""

from __future__ import annotations

import pytest

PRODUCT = {
    "title": "Handloom Saree", "options": ["Colour"], "status": "active", "vendor": "Weavers Co",
    "variants": [
        {"sku": "SAREE-RED", "price": "2499.00", "options": ["Red"], "hsn_code": "5208",
         "tax_rate": "5"},
        {"sku": "SAREE-BLU", "price": "2499.50", "options": ["Blue"], "hsn_code": "5208",
         "tax_rate": "5"},
    ],
}
ADDRESS = {"name": "Meera Iyer", "line1": "9 Anna Salai", "city": "Chennai",
           "postcode": "600002", "province_code": "TN", "phone": "+91 94440 12345"}


@pytest.fixture
def catalog(owner_api):
    product = owner_api.post("/api/v1/products", PRODUCT).json()
    location = owner_api.post("/api/v1/inventory/locations",
                              {"name": "Chennai", "province_code": "TN"}).json()
    red = product["variants"][0]["id"]
    received = owner_api.post("/api/v1/inventory/receive", {
        "variant_id": red, "location_id": location["id"], "quantity": 3})
    assert received.status_code == 201
    return product, location, red


def test_product_money_is_exact_and_roundtrips(owner_api, catalog):
    product, _, _ = catalog
    assert [v["price"] for v in product["variants"]] == ["2499.00", "2499.50"]
    assert product["variants"][0]["tax_rate"] == "5"
    bad = owner_api.post("/api/v1/products", {**PRODUCT, "variants": [
        {**PRODUCT["variants"][0], "sku": "X-1", "price": "10.001"}]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "variants.0.price"
    dup = owner_api.post("/api/v1/products", PRODUCT)
    assert dup.status_code == 409


def test_idempotency_key_replays_the_first_response(owner_api, workspace):
    first = owner_api.post("/api/v1/products", PRODUCT, **{"Idempotency-Key": "k-1"})
    again = owner_api.post("/api/v1/products", PRODUCT, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = owner_api.post("/api/v1/products", {**PRODUCT, "title": "Other"},
                           **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and other.json()["error"]["field"] == "Idempotency-Key"
    assert len(owner_api.get("/api/v1/products").json()["items"]) == 1


def test_if_match_refuses_a_stale_update(owner_api, catalog):
    product, _, _ = catalog
    path = f"/api/v1/products/{product['id']}"
    read = owner_api.get(path)
    tag = read["ETag"]
    assert owner_api.patch(path, {"title": "Silk Saree"}, **{"If-Match": tag}).status_code == 200
    stale = owner_api.patch(path, {"title": "Cotton Saree"}, **{"If-Match": tag})
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "If-Match"
    assert owner_api.get(path).json()["title"] == "Silk Saree"


def test_order_reserves_stock_and_cancel_releases_it(owner_api, catalog):
    _, location, red = catalog
    created = owner_api.post("/api/v1/orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 2}], "shipping_address": ADDRESS,
        "email": "meera@example.com", "location_id": location["id"],
        "payments": [{"amount": "4998.00", "card_brand": "visa", "card_last4": "1111"}]})
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["financial_status"] == "paid" and order["total"] == "4998.00"
    assert order["lines"][0]["cgst"] == order["lines"][0]["sgst"] != "0.00"  # TN to TN
    assert order["shipping_address"]["city"] == "Chennai"
    levels = owner_api.get(f"/api/v1/inventory/levels?variant_id={red}").json()
    assert (levels[0]["reserved"], levels[0]["available"]) == (2, 1)
    too_many = owner_api.post("/api/v1/orders", {
        "lines": [{"sku": "SAREE-RED", "quantity": 2}], "shipping_address": ADDRESS})
    assert too_many.status_code == 409
    assert too_many.json()["error"]["code"] == "insufficient_stock"
    cancelled = owner_api.post(f"/api/v1/orders/{order['id']}/cancel", {"reason": "customer"})
    assert cancelled.json()["cancelled_at"] is not None
    levels = owner_api.get(f"/api/v1/inventory/levels?variant_id={red}").json()
    assert levels[0]["available"] == 3


def test_order_list_filters_and_withholds_personal_data_from_viewers(owner_api, viewer_api,
                                                                     catalog):
    owner_api.post("/api/v1/orders", {"lines": [{"sku": "SAREE-RED", "quantity": 1}],
                                      "shipping_address": ADDRESS})
    assert len(owner_api.get("/api/v1/orders?source=manual").json()["items"]) == 1
    assert owner_api.get("/api/v1/orders?source=shopify").json()["items"] == []
    seen = viewer_api.get("/api/v1/orders").json()["items"][0]
    assert seen["personal_data"] == "withheld" and seen["shipping_address"] is None


def test_viewer_cannot_change_stock(viewer_api, catalog):
    _, location, red = catalog
    response = viewer_api.post("/api/v1/inventory/adjust", {
        "variant_id": red, "location_id": location["id"], "delta": -1, "reason": "x"})
    assert response.status_code == 403
