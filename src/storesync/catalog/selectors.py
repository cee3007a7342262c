"""Reads for the catalog."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Min, OuterRef, Q, QuerySet, Subquery

from storesync.catalog.models import (
    Collection,
    CollectionKind,
    CollectionProduct,
    CollectionSort,
    Product,
    ProductImage,
    Variant,
)
from storesync.catalog.rules import PRICE_COLUMNS, rules_from_json, rules_q
from storesync.core.errors import NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope


def product_get(*, workspace_id: uuid.UUID, product_id: uuid.UUID | str) -> Product:
    pid = parse_id(product_id, what="product")
    with workspace_scope(workspace_id):
        product = Product.objects.filter(id=pid).prefetch_related("variants", "images").first()
    if product is None:
        raise NotFound("no such product")
    return product


def variants_by_sku(*, workspace_id: uuid.UUID, skus: Sequence[str]) -> dict[str, Variant]:
    with workspace_scope(workspace_id):
        return {v.sku: v for v in Variant.objects.filter(sku__in=list(skus))}


def product_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
                 status: str | None = None, vendor: str | None = None,
                 search: str | None = None,
                 collection_id: uuid.UUID | str | None = None) -> Page[Product]:
    """Newest first; ``search`` matches part of the title or of a variant's SKU;
    ``collection_id`` keeps the collection's members (NotFound if not ours)."""
    with workspace_scope(workspace_id):
        queryset = Product.objects.prefetch_related("variants", "images")
        if status:
            queryset = queryset.filter(status=status)
        if vendor:
            queryset = queryset.filter(vendor=vendor)
        if search and search.strip():
            text = search.strip()
            matching = Variant.objects.filter(sku__icontains=text).values("product_id")
            queryset = queryset.filter(Q(title__icontains=text) | Q(id__in=matching))
        if collection_id is not None:
            collection = collection_get(workspace_id=workspace_id, collection_id=collection_id)
            queryset = queryset.filter(collection_members_q(collection))
        return keyset_page(queryset, cursor=cursor, limit=limit)


def collection_get(*, workspace_id: uuid.UUID, collection_id: uuid.UUID | str) -> Collection:
    """The collection, or NotFound (also for another workspace's or a malformed id)."""
    cid = parse_id(collection_id, what="collection")
    with workspace_scope(workspace_id):
        collection = Collection.objects.filter(id=cid).first()
    if collection is None:
        raise NotFound("no such collection")
    return collection


def collection_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
                    kind: str | None = None) -> Page[Collection]:
    with workspace_scope(workspace_id):
        queryset = Collection.objects.all()
        if kind:
            queryset = queryset.filter(kind=kind)
        return keyset_page(queryset, cursor=cursor, limit=limit)


def collection_members_q(collection: Collection) -> Q:
    """A condition on ``Product`` selecting the collection's members, run by the database:
    hand-picked rows for a custom collection, the translated rules for a smart one."""
    if collection.kind == CollectionKind.CUSTOM:
        return Q(collection_memberships__collection_id=collection.id)
    from storesync.core.models import Workspace

    rules = rules_from_json(collection.rules)
    currency = "XXX"  # only price rules need the workspace's currency: look it up for them
    if any(rule.column in PRICE_COLUMNS for rule in rules):
        currency = Workspace.objects.filter(id=collection.workspace_id).values_list(
            "currency", flat=True).get()
    return rules_q(rules, disjunctive=collection.disjunctive, currency=currency)


def collection_products(*, workspace_id: uuid.UUID, collection: Collection) -> QuerySet[Product]:
    """The members, unordered and unevaluated (call inside ``workspace_scope``)."""
    return Product.objects.filter(collection_members_q(collection))


def collection_product_count(*, workspace_id: uuid.UUID, collection: Collection) -> int:
    with workspace_scope(workspace_id):
        return collection_products(workspace_id=workspace_id, collection=collection).count()


def image_list(*, workspace_id: uuid.UUID, product_id: uuid.UUID | str) -> list[ProductImage]:
    """The product's images in display order (NotFound if the product is not ours)."""
    product = product_get(workspace_id=workspace_id, product_id=product_id)
    with workspace_scope(workspace_id):
        return list(ProductImage.objects.filter(product_id=product.id).order_by("position"))


def image_get(*, workspace_id: uuid.UUID, product_id: uuid.UUID | str,
              image_id: uuid.UUID | str) -> ProductImage:
    pid = parse_id(product_id, what="product")
    iid = parse_id(image_id, what="image")
    with workspace_scope(workspace_id):
        image = ProductImage.objects.filter(id=iid, product_id=pid).first()
    if image is None:
        raise NotFound("no such image")
    return image


# sort_order -> (key expression name, descending); ties break on the (time-ordered) id.
_SORT_KEYS: dict[str, tuple[str, bool]] = {
    CollectionSort.MANUAL: ("position", False),
    CollectionSort.ALPHA_ASC: ("title", False),
    CollectionSort.ALPHA_DESC: ("title", True),
    # Creation time, not the UUIDv7 id: ids made in the same millisecond are in random order.
    CollectionSort.CREATED: ("created_at", False),
    CollectionSort.CREATED_DESC: ("created_at", True),
    CollectionSort.PRICE_ASC: ("min_price", False),
    CollectionSort.PRICE_DESC: ("min_price", True),
}


def _cursor_encode(key: object, pk: uuid.UUID) -> str:
    raw = json.dumps([key, str(pk)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, pk = json.loads(raw)
        if not isinstance(key, str | int):
            raise ValueError(key)
        return key, uuid.UUID(pk)
    except (ValueError, TypeError, binascii.Error):
        raise ValidationError("not a cursor from this API", field="cursor") from None


def collection_product_page(*, workspace_id: uuid.UUID, collection: Collection,
                            cursor: str | None = None, limit: int = 50) -> Page[Product]:
    """The collection's products in its ``sort_order`` (manual, title, creation or lowest
    variant price), keyset-paginated on (sort key, id) so deep pages cost the same."""
    name, descending = _SORT_KEYS[collection.sort_order]
    with workspace_scope(workspace_id):
        queryset = collection_products(workspace_id=workspace_id, collection=collection)
        if name == "position":
            queryset = queryset.annotate(position=Subquery(
                CollectionProduct.objects.filter(collection_id=collection.id,
                                                 product_id=OuterRef("pk"))
                .values("position")[:1]))
        elif name == "min_price":
            # A join on the variants' product index (GROUP BY product), not a correlated
            # subquery that SQLite's planner may run over the workspace's whole variant table.
            queryset = queryset.annotate(min_price=Min("variants__price_minor"))
        if cursor:
            key, pk = _cursor_decode(cursor)
            after = "lt" if descending else "gt"
            try:
                queryset = queryset.filter(Q(**{f"{name}__{after}": key})
                                           | Q(**{name: key, f"id__{after}": pk}))
            except (ValueError, TypeError, DjangoValidationError):  # a forged key
                raise ValidationError("not a cursor from this API", field="cursor") from None
        order = [f"-{name}", "-id"] if descending else [name, "id"]
        items = list(queryset.prefetch_related("variants", "images").order_by(*order)
                     [: limit + 1])
    if len(items) <= limit:
        return Page(items, None)
    last = items[limit - 1]
    key_value = getattr(last, name)
    if isinstance(key_value, datetime):
        key_value = key_value.isoformat()
    return Page(items[:limit], _cursor_encode(key_value, last.id))
