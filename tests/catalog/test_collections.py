"""Collections: hand-picked ones keep their order; smart ones follow their rules in the DB."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storesync.catalog import collection_services as services
from storesync.catalog import selectors
from storesync.catalog.services import ProductInput, VariantInput, product_create, product_update
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


def _product(ws, title, *, sku, price_minor=49900, vendor="", product_type="", tags=(),
             compare_at_minor=None):
    return product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title=title, vendor=vendor, product_type=product_type, tags=list(tags),
        variants=[VariantInput(sku=sku, price_minor=price_minor,
                               compare_at_minor=compare_at_minor)]))


@pytest.fixture
def shop(workspace):
    ws = workspace.workspace.id
    return ws, {
        "kurta": _product(ws, "Cotton Kurta", sku="K-1", vendor="Weavers Co",
                          product_type="Kurta", tags=["Summer", "cotton"], price_minor=89900),
        "saree": _product(ws, "Silk Saree", sku="S-1", vendor="Weavers Co",
                          product_type="Saree", tags=["wedding"], price_minor=1299900,
                          compare_at_minor=1499900),
        "tee": _product(ws, "Block-print Tee", sku="T-1", vendor="Print House",
                        product_type="T-shirt", tags=["summer", "sale"], price_minor=49900),
    }


def _smart(ws, rules, *, disjunctive=False, title="Smart"):
    return services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
        title=title, kind="smart", rules=rules, disjunctive=disjunctive))


def _members(ws, collection) -> set[str]:
    page = selectors.product_list(workspace_id=ws, collection_id=collection.id, limit=200)
    return {p.title for p in page.items}


@pytest.mark.parametrize(("rules", "disjunctive", "expected"), [
    ([{"column": "tag", "relation": "equals", "condition": "summer"}], False,
     {"Cotton Kurta", "Block-print Tee"}),  # tags match whatever their case
    ([{"column": "vendor", "relation": "equals", "condition": "weavers co"},
      {"column": "variant_price", "relation": "less_than", "condition": "1000.00"}], False,
     {"Cotton Kurta"}),
    ([{"column": "type", "relation": "equals", "condition": "Saree"},
      {"column": "tag", "relation": "equals", "condition": "sale"}], True,
     {"Silk Saree", "Block-print Tee"}),
    ([{"column": "title", "relation": "contains", "condition": "print"}], False,
     {"Block-print Tee"}),
    ([{"column": "title", "relation": "starts_with", "condition": "silk"}], False,
     {"Silk Saree"}),
    ([{"column": "title", "relation": "ends_with", "condition": "TEE"}], False,
     {"Block-print Tee"}),
    ([{"column": "vendor", "relation": "not_equals", "condition": "Weavers Co"}], False,
     {"Block-print Tee"}),
    ([{"column": "title", "relation": "not_contains", "condition": "o"}], False,
     {"Silk Saree"}),
    ([{"column": "variant_price", "relation": "greater_than", "condition": "899.00"}], False,
     {"Silk Saree"}),
    ([{"column": "variant_price", "relation": "equals", "condition": "499"}], False,
     {"Block-print Tee"}),
    ([{"column": "variant_compare_at_price", "relation": "greater_than", "condition": "1"}],
     False, {"Silk Saree"}),
    ([{"column": "product_type", "relation": "equals", "condition": "kurta"}], False,
     {"Cotton Kurta"}),
])
def test_smart_collection_members_follow_the_rules(shop, rules, disjunctive, expected):
    ws, _ = shop
    collection = _smart(ws, rules, disjunctive=disjunctive)
    assert _members(ws, collection) == expected
    assert selectors.collection_product_count(workspace_id=ws, collection=collection) == len(
        expected)


def test_smart_membership_is_one_query_and_follows_product_changes(shop):
    ws, products = shop
    collection = _smart(ws, [
        {"column": "tag", "relation": "equals", "condition": "wedding"},
        {"column": "variant_price", "relation": "greater_than", "condition": "100"}])
    with CaptureQueriesContext(connection) as queries, workspace_scope(ws):
        ids = list(selectors.collection_products(workspace_id=ws, collection=collection)
                   .values_list("id", flat=True))
    assert ids == [products["saree"].id]
    # The rules ran in the database: one SELECT over products (variants in a subquery);
    # the other queries are the currency lookup and, on PostgreSQL, the scope settings.
    selects = [q["sql"] for q in queries.captured_queries if "catalog_product" in q["sql"]]
    assert len(selects) == 1 and "catalog_variant" in selects[0]
    product_update(workspace_id=ws, product_id=products["kurta"].id, expected_version=None,
                   changes={"tags": ["Wedding"]}, actor=ACTOR)
    assert _members(ws, collection) == {"Silk Saree", "Cotton Kurta"}


@pytest.mark.parametrize(("rule", "field"), [
    ({"column": "colour", "relation": "equals", "condition": "red"}, "rules.0.column"),
    ({"column": "tag", "relation": "contains", "condition": "sum"}, "rules.0.relation"),
    ({"column": "title", "relation": "greater_than", "condition": "a"}, "rules.0.relation"),
    ({"column": "title", "relation": "is_set", "condition": "a"}, "rules.0.relation"),
    ({"column": "variant_price", "relation": "less_than", "condition": "cheap"},
     "rules.0.condition"),
    ({"column": "variant_price", "relation": "less_than", "condition": "1.001"},
     "rules.0.condition"),
    ({"column": "title", "relation": "equals", "condition": "  "}, "rules.0.condition"),
])
def test_invalid_rules_name_the_field(shop, rule, field):
    ws, _ = shop
    with pytest.raises(ValidationError) as caught:
        _smart(ws, [rule])
    assert caught.value.field == field


def test_smart_collection_needs_rules_and_computed_order(shop):
    ws, products = shop
    with pytest.raises(ValidationError) as caught:
        _smart(ws, [])
    assert caught.value.field == "rules"
    with pytest.raises(ValidationError) as caught:
        services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="x", kind="smart", product_ids=[products["tee"].id],
            rules=[{"column": "tag", "relation": "equals", "condition": "sale"}]))
    assert caught.value.field == "product_ids"
    with pytest.raises(ValidationError) as caught:
        services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="x", kind="custom", rules=[{"column": "tag", "relation": "equals",
                                                         "condition": "sale"}]))
    assert caught.value.field == "rules"


def test_custom_collection_membership_and_order(shop):
    ws, p = shop
    collection = services.collection_create(
        workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="Festive picks", product_ids=[p["saree"].id, p["kurta"].id, p["saree"].id]))
    assert collection.sort_order == "manual"
    assert _members(ws, collection) == {"Silk Saree", "Cotton Kurta"}
    added = services.collection_products_add(workspace_id=ws, collection_id=collection.id,
                                             product_ids=[p["kurta"].id, p["tee"].id],
                                             actor=ACTOR)
    assert added == 1

    def order():
        with workspace_scope(ws):
            return [m.product.title for m in
                    collection.memberships.select_related("product").order_by("position")]

    assert order() == ["Silk Saree", "Cotton Kurta", "Block-print Tee"]
    services.collection_products_reorder(workspace_id=ws, collection_id=collection.id,
                                         product_ids=[p["tee"].id, p["saree"].id, p["kurta"].id],
                                         actor=ACTOR)
    assert order() == ["Block-print Tee", "Silk Saree", "Cotton Kurta"]
    with pytest.raises(ValidationError):  # an order must name every member once
        services.collection_products_reorder(workspace_id=ws, collection_id=collection.id,
                                             product_ids=[p["tee"].id], actor=ACTOR)
    removed = services.collection_products_remove(
        workspace_id=ws, collection_id=collection.id, product_ids=[p["saree"].id], actor=ACTOR)
    assert removed == 1 and order() == ["Block-print Tee", "Cotton Kurta"]


def test_custom_collection_refuses_unknown_products(shop, other_workspace):
    ws, _ = shop
    theirs = _product(other_workspace.workspace.id, "Their Tee", sku="THEIRS")
    with pytest.raises(NotFound) as caught:
        services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="Mine", product_ids=[theirs.id]))
    assert caught.value.field == "product_ids.0"
    with pytest.raises(NotFound):
        services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="Mine", product_ids=[uuid.uuid4()]))
    assert selectors.collection_list(workspace_id=ws).items == []


def test_handles_are_unique_per_workspace(shop, other_workspace):
    ws, _ = shop
    first = services.collection_create(workspace_id=ws, actor=ACTOR,
                                       data=services.CollectionInput(title="Summer Sale"))
    second = services.collection_create(workspace_id=ws, actor=ACTOR,
                                        data=services.CollectionInput(title="Summer Sale"))
    assert first.handle == "summer-sale" and second.handle.startswith("summer-sale-")
    with pytest.raises(Conflict) as caught:
        services.collection_create(workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="Another", handle="summer-sale"))
    assert caught.value.field == "handle"
    elsewhere = services.collection_create(
        workspace_id=other_workspace.workspace.id, actor=ACTOR,
        data=services.CollectionInput(title="Summer Sale", handle="summer-sale"))
    assert elsewhere.handle == "summer-sale"
    with pytest.raises(Conflict):
        services.collection_update(workspace_id=ws, collection_id=second.id,
                                   expected_version=None, changes={"handle": "summer-sale"},
                                   actor=ACTOR)


def test_update_rules_and_stale_version(shop):
    ws, _ = shop
    collection = _smart(ws, [{"column": "tag", "relation": "equals", "condition": "sale"}])
    updated = services.collection_update(
        workspace_id=ws, collection_id=collection.id, expected_version=collection.version,
        changes={"rules": [{"column": "vendor", "relation": "equals",
                            "condition": "Weavers Co"}]}, actor=ACTOR)
    assert _members(ws, updated) == {"Cotton Kurta", "Silk Saree"}
    with pytest.raises(Conflict):
        services.collection_update(workspace_id=ws, collection_id=collection.id,
                                   expected_version=collection.version,
                                   changes={"title": "Stale"}, actor=ACTOR)
    with pytest.raises(ValidationError) as caught:
        services.collection_update(workspace_id=ws, collection_id=collection.id,
                                   expected_version=None, changes={"rules": [
                                       {"column": "tag", "relation": "starts_with",
                                        "condition": "x"}]}, actor=ACTOR)
    assert caught.value.field == "rules.0.relation"
    services.collection_delete(workspace_id=ws, collection_id=collection.id, actor=ACTOR)
    with pytest.raises(NotFound):
        selectors.collection_get(workspace_id=ws, collection_id=collection.id)


@pytest.mark.parametrize(("sort_order", "expected"), [
    ("alpha-asc", ["Block-print Tee", "Cotton Kurta", "Silk Saree"]),
    ("alpha-desc", ["Silk Saree", "Cotton Kurta", "Block-print Tee"]),
    ("created", ["Cotton Kurta", "Silk Saree", "Block-print Tee"]),
    ("created-desc", ["Block-print Tee", "Silk Saree", "Cotton Kurta"]),
    ("price-asc", ["Block-print Tee", "Cotton Kurta", "Silk Saree"]),
    ("price-desc", ["Silk Saree", "Cotton Kurta", "Block-print Tee"]),
])
def test_smart_collection_pages_follow_its_sort_order(shop, sort_order, expected):
    ws, _ = shop
    collection = services.collection_create(
        workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title=sort_order, kind="smart", sort_order=sort_order,
            rules=[{"column": "variant_price", "relation": "greater_than", "condition": "0"}]))
    seen, cursor = [], None
    for _ in range(5):  # bounded: three products, one per page
        page = selectors.collection_product_page(workspace_id=ws, collection=collection,
                                                 cursor=cursor, limit=1)
        seen += [p.title for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_manual_order_pages_and_bad_cursor(shop):
    ws, p = shop
    collection = services.collection_create(
        workspace_id=ws, actor=ACTOR, data=services.CollectionInput(
            title="Picks", product_ids=[p["tee"].id, p["saree"].id, p["kurta"].id]))
    first = selectors.collection_product_page(workspace_id=ws, collection=collection, limit=2)
    rest = selectors.collection_product_page(workspace_id=ws, collection=collection, limit=2,
                                             cursor=first.next_cursor)
    assert [x.title for x in first.items + rest.items] == [
        "Block-print Tee", "Silk Saree", "Cotton Kurta"]
    assert rest.next_cursor is None
    forged = base64.urlsafe_b64encode(json.dumps(["x", str(uuid.uuid4())]).encode()).decode()
    for cursor in ("not-a-cursor", forged):
        with pytest.raises(ValidationError) as caught:
            selectors.collection_product_page(workspace_id=ws, collection=collection,
                                              cursor=cursor)
        assert caught.value.field == "cursor"
