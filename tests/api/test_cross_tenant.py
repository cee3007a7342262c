"""Every API endpoint, called with another workspace's object ids, finds nothing."""

from __future__ import annotations

import re

from storesync.api.v1 import api
from tests.conftest import CUSTOMER

# A valid body for every write that takes an id, so a 404 means "not yours", not "bad body".
SAMPLE_BODIES = {
    ("patch", "/api/v1/customers/{customer_id}"): {"first_name": "Mallory"},
    ("patch", "/api/v1/products/{product_id}"): {"title": "Mallory"},
    ("post", "/api/v1/orders/{order_id}/cancel"): {"reason": "Mallory"},
    ("post", "/api/v1/orders/{order_id}/fulfil"): None,
    ("post", "/api/v1/orders/{order_id}/fulfillments"): {"tracking_number": "MAL-1"},
    ("post", "/api/v1/orders/{order_id}/refunds"): {"amount": "1.00"},
    ("post", "/api/v1/orders/{order_id}/returns/{return_id}/receive"): {"restock": True},
    ("post", "/api/v1/orders/{order_id}/returns/{return_id}/cancel"): None,
    ("patch", "/api/v1/draft-orders/{draft_id}"): {"note": "Mallory"},
    ("post", "/api/v1/draft-orders/{draft_id}/complete"): {"payments": []},
    ("post", "/api/v1/privacy/requests/{request_id}/actions"): {"action": "approve"},
    ("post", "/api/v1/privacy/public/{slug}/requests/{request_id}/verify"): {"code": "123456"},
}
# Public endpoints that take no other workspace's id (a storefront names its own shop).
NO_FOREIGN_ID = {("post", "/api/v1/privacy/public/{slug}/requests")}


def _operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield path, method


def test_every_endpoint_refuses_other_workspaces_ids(owner_api, other_api):
    theirs = other_api.post("/api/v1/customers", CUSTOMER).json()
    product = other_api.post("/api/v1/products", {"title": "Theirs", "variants": [
        {"sku": "THEIRS-1", "price": "10.00"}]}).json()
    location = other_api.post("/api/v1/inventory/locations", {"name": "Their WH"}).json()
    other_api.post("/api/v1/inventory/receive", {"variant_id": product["variants"][0]["id"],
                                                 "location_id": location["id"], "quantity": 5})
    order = other_api.post("/api/v1/orders", {
        "lines": [{"sku": "THEIRS-1", "quantity": 1}],
        "shipping_address": {"name": "Asha", "line1": "x", "city": "Pune",
                             "province_code": "MH"}}).json()
    line = order["lines"][0]["id"]
    bodies = {**SAMPLE_BODIES, ("post", "/api/v1/orders/{order_id}/returns"): {
        "lines": [{"line_id": line, "quantity": 1}]}}
    other_api.post(f"/api/v1/orders/{order['id']}/fulfil")
    returned = other_api.post(f"/api/v1/orders/{order['id']}/returns", {
        "lines": [{"line_id": line, "quantity": 1}]}).json()
    draft = other_api.post("/api/v1/draft-orders", {
        "lines": [{"sku": "THEIRS-1", "quantity": 1}], "email": "asha@example.com"}).json()
    checkout = other_api.post("/api/v1/abandoned-checkouts", {
        "lines": [{"sku": "THEIRS-1", "quantity": 1, "unit_price": "10.00"}],
        "abandoned_at": "2026-01-01T10:00:00Z", "email": "asha@example.com"}).json()
    request = other_api.client.post("/api/v1/privacy/public/globex/requests",
                                    {"email": "asha@example.com", "kind": "access"},
                                    content_type="application/json").json()
    ids = {"customer_id": theirs["id"], "product_id": product["id"], "order_id": order["id"],
           "return_id": returned["id"], "draft_id": draft["id"], "checkout_id": checkout["id"],
           "request_id": request["request_id"], "slug": "acme"}
    checked = 0
    for path, method in _operations():
        params = re.findall(r"{(\w+)}", path)
        if not params or (method, path) in NO_FOREIGN_ID:
            continue
        assert all(p in ids for p in params), f"add an id for {path} to this test"
        url = path.format(**ids)
        if method != "get":
            assert (method, path) in bodies, f"add a body for {method} {path}"
        body = bodies.get((method, path))
        call = getattr(owner_api, method)
        response = call(url, body) if body else call(url)
        assert response.status_code == 404, (method, path, response.content)
        assert "Asha" not in response.content.decode()
        checked += 1
    assert checked >= 17
    # Their customer, order, return and draft are untouched.
    assert other_api.get(f"/api/v1/customers/{theirs['id']}").json()["first_name"] == "Asha"
    theirs_now = other_api.get(f"/api/v1/orders/{order['id']}").json()
    assert (theirs_now["refunded"], theirs_now["returns"][0]["status"]) == ("0.00", "requested")
    assert other_api.get(f"/api/v1/draft-orders/{draft['id']}").json()["status"] == "open"


def test_lists_and_lookups_never_include_other_workspaces(owner_api, other_api):
    other_api.post("/api/v1/customers", CUSTOMER)
    assert owner_api.get("/api/v1/customers").json()["items"] == []
    assert owner_api.get("/api/v1/customers?email=asha.rao@example.com").json()["items"] == []
    assert owner_api.get("/api/v1/customers?phone=9876543210").json()["items"] == []
    assert owner_api.get("/api/v1/workspace").json()["slug"] == "acme"


def test_openapi_describes_every_route(owner_api):
    from django.test import Client
    doc = Client().get("/api/v1/openapi.json").json()
    routes = {(p, m) for p, ms in doc["paths"].items() for m in ms}
    assert {("/api/v1/customers", "post"), ("/api/v1/customers", "get"),
            ("/api/v1/customers/{customer_id}", "get"),
            ("/api/v1/customers/{customer_id}", "patch"),
            ("/api/v1/workspace", "get")} <= routes
    assert doc["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
