"""Collections through the REST API, and the products list filtered by collection."""

from __future__ import annotations

import pytest

from tests.api.test_commerce import PRODUCT


@pytest.fixture
def products(owner_api):
    made = {}
    for title, vendor, tags, price in (("Handloom Saree", "Weavers Co", ["wedding"], "2499.00"),
                                       ("Cotton Kurta", "Weavers Co", ["summer"], "899.00"),
                                       ("Print Tee", "Print House", ["summer", "sale"], "499.00")):
        body = {**PRODUCT, "title": title, "vendor": vendor, "tags": tags, "options": [],
                "variants": [{"sku": title.upper().replace(" ", "-"), "price": price}]}
        response = owner_api.post("/api/v1/products", body)
        assert response.status_code == 201, response.content
        made[title] = response.json()["id"]
    return made


def _titles(owner_api, collection_id):
    response = owner_api.get(f"/api/v1/products?collection={collection_id}")
    assert response.status_code == 200, response.content
    return {p["title"] for p in response.json()["items"]}


def test_smart_collection_any_rule(owner_api, products):
    created = owner_api.post("/api/v1/collections", {
        "title": "Summer or cheap", "kind": "smart", "match": "any",
        "rules": [{"column": "tag", "relation": "equals", "condition": "SUMMER"},
                  {"column": "variant_price", "relation": "less_than", "condition": "500"}]})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["handle"] == "summer-or-cheap" and body["match"] == "any"
    assert body["products_count"] == 2 and body["sort_order"] == "alpha-asc"
    assert _titles(owner_api, body["id"]) == {"Cotton Kurta", "Print Tee"}
    all_rules = owner_api.patch(f"/api/v1/collections/{body['id']}", {"match": "all"})
    assert all_rules.json()["products_count"] == 1
    assert _titles(owner_api, body["id"]) == {"Print Tee"}


@pytest.mark.parametrize(("rule", "field"), [
    ({"column": "vendor", "relation": "bigger_than", "condition": "x"}, "rules.0.relation"),
    ({"column": "tag", "relation": "not_equals", "condition": "x"}, "rules.0.relation"),
    ({"column": "weight", "relation": "equals", "condition": "x"}, "rules.0.column"),
    ({"column": "variant_price", "relation": "less_than", "condition": "1,000"},
     "rules.0.condition"),
])
def test_invalid_rule_is_a_400_naming_the_field(owner_api, products, rule, field):
    response = owner_api.post("/api/v1/collections", {"title": "Bad", "kind": "smart",
                                                      "rules": [rule]})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field
    assert owner_api.get("/api/v1/collections").json()["items"] == []


def test_match_must_be_all_or_any(owner_api):
    response = owner_api.post("/api/v1/collections", {
        "title": "Bad", "kind": "smart", "match": "some",
        "rules": [{"column": "tag", "relation": "equals", "condition": "x"}]})
    assert response.status_code == 400 and response.json()["error"]["field"] == "match"


def test_custom_collection_lifecycle_with_if_match(owner_api, viewer_api, products):
    created = owner_api.post("/api/v1/collections", {
        "title": "Festive", "product_ids": [products["Handloom Saree"]]})
    assert created.status_code == 201, created.content
    path = f"/api/v1/collections/{created.json()['id']}"
    added = owner_api.post(f"{path}/products", {"product_ids": [products["Print Tee"]]})
    assert added.json()["products_count"] == 2
    assert _titles(owner_api, created.json()["id"]) == {"Handloom Saree", "Print Tee"}
    order = owner_api.put(f"{path}/products/order",
                          {"product_ids": [products["Print Tee"], products["Handloom Saree"]]})
    assert order.status_code == 200
    listed = owner_api.get(f"{path}/products").json()
    assert [p["title"] for p in listed["items"]] == ["Print Tee", "Handloom Saree"]
    tag = owner_api.get(path)["ETag"]
    assert owner_api.patch(path, {"title": "Diwali"}, **{"If-Match": tag}).status_code == 200
    stale = owner_api.patch(path, {"title": "Holi"}, **{"If-Match": tag})
    assert stale.status_code == 412 and stale.json()["error"]["field"] == "If-Match"
    assert viewer_api.post(f"{path}/products/remove",
                           {"product_ids": [products["Print Tee"]]}).status_code == 403
    removed = owner_api.post(f"{path}/products/remove", {"product_ids": [products["Print Tee"]]})
    assert removed.json()["products_count"] == 1
    assert viewer_api.get(path).json()["title"] == "Diwali"
    assert owner_api.delete(path).status_code == 204
    assert owner_api.get(path).status_code == 404
    assert len(owner_api.get("/api/v1/products").json()["items"]) == 3  # products stay


def test_collection_list_paginates(owner_api):
    for n in range(3):
        owner_api.post("/api/v1/collections", {"title": f"C{n}"})
    first = owner_api.get("/api/v1/collections?limit=2").json()
    assert [c["title"] for c in first["items"]] == ["C2", "C1"] and first["next_cursor"]
    assert first["items"][0]["products_count"] is None  # counts come with a single read
    rest = owner_api.get(f"/api/v1/collections?limit=2&cursor={first['next_cursor']}").json()
    assert [c["title"] for c in rest["items"]] == ["C0"] and rest["next_cursor"] is None
