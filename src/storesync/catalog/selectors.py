"""Reads for the catalog."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db.models import Q

from storesync.catalog.models import Product, Variant
from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope


def product_get(*, workspace_id: uuid.UUID, product_id: uuid.UUID | str) -> Product:
    pid = parse_id(product_id, what="product")
    with workspace_scope(workspace_id):
        product = Product.objects.filter(id=pid).prefetch_related("variants").first()
    if product is None:
        raise NotFound("no such product")
    return product


def variants_by_sku(*, workspace_id: uuid.UUID, skus: Sequence[str]) -> dict[str, Variant]:
    with workspace_scope(workspace_id):
        return {v.sku: v for v in Variant.objects.filter(sku__in=list(skus))}


def product_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
                 status: str | None = None, vendor: str | None = None,
                 search: str | None = None) -> Page[Product]:
    """Newest first; ``search`` matches part of the title or of a variant's SKU."""
    with workspace_scope(workspace_id):
        queryset = Product.objects.prefetch_related("variants")
        if status:
            queryset = queryset.filter(status=status)
        if vendor:
            queryset = queryset.filter(vendor=vendor)
        if search and search.strip():
            text = search.strip()
            matching = Variant.objects.filter(sku__icontains=text).values("product_id")
            queryset = queryset.filter(Q(title__icontains=text) | Q(id__in=matching))
        return keyset_page(queryset, cursor=cursor, limit=limit)
