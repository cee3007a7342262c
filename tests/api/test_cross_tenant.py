"""Every API endpoint, called with another workspace's object ids, finds nothing."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from storesync.api.v1 import api
from storesync.catalog.listings import ListingInput, listing_create
from storesync.channels.models import UnmatchedVariant
from storesync.channels.services import connection_create
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor
from tests.catalog.conftest import png_bytes
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
    ("post", "/api/v1/connections/{connection_id}/dead-letters/replay"): None,
    ("post", "/api/v1/connections/{connection_id}/listings"): {
        "variant_id": "0190c3c4-0000-7000-8000-000000000001", "external_product_id": "p",
        "external_variant_id": "v", "inventory_item_id": "i"},
    ("patch", "/api/v1/connections/{connection_id}/listings/{listing_id}"): {
        "status": "unlisted"},
    ("post", "/api/v1/connections/{connection_id}/location-mappings"): {
        "channel_location_id": "loc", "location_id": "0190c3c4-0000-7000-8000-000000000002"},
    ("post", "/api/v1/connections/{connection_id}/initial-sync"): {"days": 1},
    ("post", "/api/v1/connections/{connection_id}/unmatched/{unmatched_id}/map"): {
        "sku": "THEIRS-1"},
    ("post", "/api/v1/connections/{connection_id}/unmatched/{unmatched_id}/create"): {
        "sku": "MALLORY-1"},
    ("post", "/api/v1/jobs/{job_id}/retry"): None,
    ("post", "/api/v1/jobs/{job_id}/cancel"): None,
    ("post", "/api/v1/customers/{customer_id}/marketing-consent"): {
        "channel": "email", "state": "unsubscribed", "source": "mallory"},
    ("patch", "/api/v1/collections/{collection_id}"): {"title": "Mallory"},
    ("delete", "/api/v1/collections/{collection_id}"): None,
    ("post", "/api/v1/collections/{collection_id}/products"): {"product_ids": []},
    ("post", "/api/v1/collections/{collection_id}/products/remove"): {"product_ids": []},
    ("put", "/api/v1/collections/{collection_id}/products/order"): {"product_ids": []},
    ("patch", "/api/v1/products/{product_id}/images/{image_id}"): {"alt_text": "Mallory"},
    ("delete", "/api/v1/products/{product_id}/images/{image_id}"): None,
    ("patch", "/api/v1/inventory/locations/{location_id}"): {"name": "Mallory"},
    ("patch", "/api/v1/inventory/levels/{level_id}"): {"low_stock_threshold": 1},
    ("put", "/api/v1/privacy/subjects/{subject_type}/{subject_id}/age"): {"under_age": True},
    ("post", "/api/v1/privacy/subjects/{subject_type}/{subject_id}/guardian-consent"): {
        "guardian_name": "Mallory", "guardian_contact": "m@example.com",
        "method": "signed_form", "verified_at": "2026-01-01T00:00:00Z"},
    ("post", "/api/v1/privacy/policies/{policy_id}/acceptances"): {
        "subject_type": "visitor", "subject_id": "visitor-mallory"},
    ("patch", "/api/v1/privacy/processors/{processor_id}"): {"name": "Mallory"},
    ("post", "/api/v1/privacy/processors/{processor_id}/payload"): {
        "record_type": "customer", "record_id": "00000000-0000-0000-0000-000000000000"},
    ("put", "/api/v1/privacy/breaches/{breach_id}/notices/{kind}"): {"text": "Mallory"},
    ("post", "/api/v1/privacy/breaches/{breach_id}/notices/{kind}/sent"): {},
    ("post", "/api/v1/privacy/requests/{request_id}/actions"): {"action": "approve"},
    ("post", "/api/v1/privacy/requests/{request_id}/propagations/{propagation_id}/answer"): {
        "outcome": "confirmed", "note": "Mallory confirmed"},
    ("post", "/api/v1/privacy/public/{slug}/requests/{request_id}/verify"): {"code": "123456"},
}
MULTIPART = {("post", "/api/v1/products/{product_id}/images")}
# Public endpoints that take no other workspace's id (a storefront names its own shop).
NO_FOREIGN_ID = {("post", "/api/v1/privacy/public/{slug}/requests")}


def _operations():
    schema = api.get_openapi_schema()
    for path, methods in schema["paths"].items():
        for method in methods:
            yield path, method


def test_every_endpoint_refuses_other_workspaces_ids(owner_api, other_api, other_workspace):
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
    connection = connection_create(
        workspace_id=other_workspace.workspace.id, platform="shopify", name="theirs",
        credentials={}, webhook_secret="0123456789abcdef", actor=Actor.system("test"))
    listing = listing_create(workspace_id=other_workspace.workspace.id, actor=Actor.system("test"),
                             data=ListingInput(variant_id=product["variants"][0]["id"],
                                               connection_id=connection.id,
                                               external_product_id="p", external_variant_id="v",
                                               inventory_item_id="i"))
    with workspace_scope(other_workspace.workspace.id):
        unmatched = UnmatchedVariant.objects.create(
            workspace_id=other_workspace.workspace.id, connection_id=connection.id,
            external_product_id="p2", external_variant_id="v2", inventory_item_id="i2",
            reason="no hub variant has this SKU")
    upload = SimpleUploadedFile("p.csv", b"handle,title,sku,price\nx,X,X-1,1\n")
    job = other_api.client.post("/api/v1/imports/products", data={"file": upload},
                                headers=other_api.headers).json()
    collection = other_api.post("/api/v1/collections", {
        "title": "Theirs", "product_ids": [product["id"]]}).json()
    image = other_api.client.post(
        f"/api/v1/products/{product['id']}/images", data={"file": png_bytes("their.png")},
        headers=other_api.headers).json()
    level = other_api.get(
        f"/api/v1/inventory/levels?variant_id={product['variants'][0]['id']}").json()[0]
    policy = other_api.post("/api/v1/privacy/policies", {
        "version": "v1", "body": "Text", "summary": "First",
        "effective_at": "2026-01-01T00:00:00Z"}).json()
    processor = other_api.get("/api/v1/privacy/processors").json()[0]
    breach = other_api.post("/api/v1/privacy/breaches", {
        "title": "Theirs", "description": "Theirs", "categories": ["user.name"],
        "window_start": "2026-01-01T00:00:00Z", "window_end": "2026-01-02T00:00:00Z",
        "discovered_at": "2026-01-03T00:00:00Z", "contact": "dpo@globex.example"}).json()
    request = other_api.client.post("/api/v1/privacy/public/globex/requests",
                                    {"email": "asha@example.com", "kind": "access"},
                                    content_type="application/json").json()
    ids = {
        "collection_id": collection["id"],
        "image_id": image["id"],
        "location_id": location["id"],
        "level_id": level["id"],
        "customer_id": theirs["id"],
        "product_id": product["id"],
        "order_id": order["id"],
        "return_id": returned["id"],
        "draft_id": draft["id"],
        "checkout_id": checkout["id"],
        "connection_id": str(connection.id),
        "listing_id": str(listing.id),
        "unmatched_id": str(unmatched.id),
        "job_id": job["id"],
        "subject_type": "customer",
        "subject_id": theirs["id"],
        "policy_id": policy["id"],
        "processor_id": processor["id"],
        "breach_id": breach["id"],
        "kind": "authority",
        "request_id": request["request_id"],
        # Any recipient of their request is out of reach: the request is not found first.
        "propagation_id": "0190c3c4-0000-7000-8000-000000000003",
        "slug": "acme",
    }
    checked = 0
    for path, method in _operations():
        params = re.findall(r"{(\w+)}", path)
        if not params or (method, path) in NO_FOREIGN_ID:
            continue
        assert all(p in ids for p in params), f"add an id for {path} to this test"
        url = path.format(**ids)
        if (method, path) in MULTIPART:
            response = owner_api.client.post(url, data={"file": png_bytes("mine.png")},
                                             headers=owner_api.headers)
        else:
            if method not in ("get", "delete"):
                assert (method, path) in bodies, f"add a body for {method} {path}"
            body = bodies.get((method, path))
            call = getattr(owner_api, method)
            response = call(url, body) if body is not None else call(url)
        assert response.status_code == 404, (method, path, response.content)
        assert "Asha" not in response.content.decode()
        checked += 1
    assert checked >= 30
    # Their customer, order, return, draft, collection and image are untouched.
    assert other_api.get(f"/api/v1/customers/{theirs['id']}").json()["first_name"] == "Asha"
    theirs_now = other_api.get(f"/api/v1/orders/{order['id']}").json()
    assert (theirs_now["refunded"], theirs_now["returns"][0]["status"]) == ("0.00", "requested")
    assert other_api.get(f"/api/v1/draft-orders/{draft['id']}").json()["status"] == "open"
    assert other_api.get(f"/api/v1/collections/{collection['id']}").json()["title"] == "Theirs"
    assert other_api.get(f"/api/v1/products/{product['id']}/images/{image['id']}/file"
                         ).status_code == 200
    # Nor does a filter by their collection reveal anything.
    assert owner_api.get(f"/api/v1/products?collection={collection['id']}").status_code == 404


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
