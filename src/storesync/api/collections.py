"""``/api/v1/collections``: custom collections (hand-picked, ordered) and smart ones (rules).

The members of either kind are listed with ``GET /api/v1/products?collection=<id>``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.catalog import ProductPage, etag
from storesync.api.catalog import _out as product_out
from storesync.api.errors import json_error
from storesync.api.schemas import Strict
from storesync.catalog import collection_services as services
from storesync.catalog import selectors
from storesync.catalog.models import Collection
from storesync.core.errors import ValidationError
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get

router = Router(tags=["collections"])


class RuleIn(Strict):
    column: str = Field(max_length=40, description="title, type, vendor, tag, variant_title, "
                        "variant_price or variant_compare_at_price")
    relation: str = Field(max_length=20, description="equals, not_equals, starts_with, "
                          "ends_with, contains, not_contains, greater_than or less_than")
    condition: str = Field(max_length=255, description="text, or a price such as \"499.00\"")


class CollectionIn(Strict):
    title: str = Field(max_length=255)
    kind: str = Field("custom", description="`custom` (products picked by hand) or `smart`")
    handle: str = Field("", max_length=255)
    description: str = Field("", max_length=20000)
    sort_order: str = Field("", max_length=16)
    rules: list[RuleIn] = Field(default_factory=list, max_length=60)
    match: str = Field("all", description="smart: a product must match `all` rules, or `any`")
    product_ids: list[uuid.UUID] = Field(default_factory=list, max_length=250)


class CollectionPatch(Strict):
    title: str | None = Field(None, max_length=255)
    handle: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=20000)
    sort_order: str | None = Field(None, max_length=16)
    rules: list[RuleIn] | None = Field(None, max_length=60)
    match: str | None = None


class ProductIdsIn(Strict):
    product_ids: list[uuid.UUID] = Field(max_length=250)


class RuleOut(Schema):
    column: str
    relation: str
    condition: str


class CollectionOut(Schema):
    id: uuid.UUID
    title: str
    handle: str
    description: str
    kind: str
    sort_order: str
    rules: list[RuleOut]
    match: str
    products_count: int | None = Field(
        description="members now; null in lists (each count runs the rules: read the collection)")
    version: int
    created_at: datetime
    updated_at: datetime


class CollectionPage(Schema):
    items: list[CollectionOut]
    next_cursor: str | None


def _disjunctive(match: str) -> bool:
    if match not in ("all", "any"):
        raise ValidationError("match is all or any", field="match")
    return match == "any"


def _out(collection: Collection, *, count: bool = True) -> dict[str, Any]:
    return {
        "id": collection.id, "title": collection.title, "handle": collection.handle,
        "description": collection.description, "kind": collection.kind,
        "sort_order": collection.sort_order, "rules": collection.rules,
        "match": "any" if collection.disjunctive else "all",
        "products_count": selectors.collection_product_count(
            workspace_id=collection.workspace_id, collection=collection) if count else None,
        "version": collection.version, "created_at": collection.created_at,
        "updated_at": collection.updated_at,
    }


@router.post("", response={201: CollectionOut}, summary="Create a custom or smart collection")
def create_collection(request: HttpRequest, payload: CollectionIn) -> Status:
    who = require(request, Perm.MANAGE_CATALOG)
    data = payload.model_dump(exclude={"match", "rules"})
    collection = services.collection_create(
        workspace_id=who.workspace_id, actor=who.actor,
        data=services.CollectionInput(**data, disjunctive=_disjunctive(payload.match),
                                      rules=[r.model_dump() for r in payload.rules]))
    return Status(201, _out(collection))


@router.get("", response=CollectionPage, summary="List collections, newest first")
def list_collections(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                     limit: int = Query(50, ge=1, le=200),
                     kind: str | None = Query(None, max_length=8)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    page = selectors.collection_list(workspace_id=who.workspace_id, cursor=cursor, limit=limit,
                                     kind=kind)
    return {"items": [_out(c, count=False) for c in page.items],
            "next_cursor": page.next_cursor}


@router.get("/{collection_id}", response=CollectionOut, summary="Read a collection (ETag)")
def get_collection(request: HttpRequest, response: HttpResponse,
                   collection_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    response["ETag"] = etag(collection.version)
    return _out(collection)


@router.get("/{collection_id}/products", response=ProductPage,
            summary="The collection's products in its sort order (manual, alpha, created, "
                    "price)")
def collection_products(request: HttpRequest, collection_id: str,
                        cursor: str | None = Query(None, max_length=200),
                        limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    page = selectors.collection_product_page(workspace_id=who.workspace_id,
                                             collection=collection, cursor=cursor, limit=limit)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    return {"items": [product_out(p, currency) for p in page.items],
            "next_cursor": page.next_cursor}


@router.patch("/{collection_id}", response={200: CollectionOut, 412: dict},
              summary="Change a collection; send If-Match with the ETag to refuse stale writes")
def update_collection(request: HttpRequest, response: HttpResponse, collection_id: str,
                      payload: CollectionPatch) -> Any:
    who = require(request, Perm.MANAGE_CATALOG)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    changes = payload.model_dump(exclude_unset=True)
    if not changes or any(v is None for v in changes.values()):
        raise ValidationError("send the fields to change, with values", field="body")
    if "match" in changes:
        changes["disjunctive"] = _disjunctive(changes.pop("match"))
    expected = None
    if_match = request.headers.get("If-Match")
    if if_match:
        if if_match.strip() != etag(collection.version):
            return json_error(412, "precondition_failed",
                              "the collection changed since you read it (ETag mismatch)",
                              "If-Match")
        expected = collection.version
    fresh = services.collection_update(workspace_id=who.workspace_id,
                                       collection_id=collection.id, expected_version=expected,
                                       changes=changes, actor=who.actor)
    response["ETag"] = etag(fresh.version)
    return _out(fresh)


@router.delete("/{collection_id}", response={204: None},
               summary="Delete a collection (its products stay)")
def delete_collection(request: HttpRequest, collection_id: str) -> Status:
    who = require(request, Perm.MANAGE_CATALOG)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    services.collection_delete(workspace_id=who.workspace_id, collection_id=collection.id,
                               actor=who.actor)
    return Status(204, None)


@router.post("/{collection_id}/products", response=CollectionOut,
             summary="Add products to a custom collection, at the end, in the order given")
def add_products(request: HttpRequest, collection_id: str,
                 payload: ProductIdsIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CATALOG)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    services.collection_products_add(workspace_id=who.workspace_id, collection_id=collection.id,
                                     product_ids=payload.product_ids, actor=who.actor)
    return _out(selectors.collection_get(workspace_id=who.workspace_id,
                                         collection_id=collection.id))


@router.post("/{collection_id}/products/remove", response=CollectionOut,
             summary="Take products out of a custom collection")
def remove_products(request: HttpRequest, collection_id: str,
                    payload: ProductIdsIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CATALOG)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    services.collection_products_remove(workspace_id=who.workspace_id,
                                        collection_id=collection.id,
                                        product_ids=payload.product_ids, actor=who.actor)
    return _out(selectors.collection_get(workspace_id=who.workspace_id,
                                         collection_id=collection.id))


@router.put("/{collection_id}/products/order", response=CollectionOut,
            summary="Set the manual order of a custom collection (every member once)")
def reorder_products(request: HttpRequest, collection_id: str,
                     payload: ProductIdsIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CATALOG)
    collection = selectors.collection_get(workspace_id=who.workspace_id,
                                          collection_id=collection_id)
    services.collection_products_reorder(workspace_id=who.workspace_id,
                                         collection_id=collection.id,
                                         product_ids=payload.product_ids, actor=who.actor)
    return _out(selectors.collection_get(workspace_id=who.workspace_id,
                                         collection_id=collection.id))
