"""``/api/v1/products``: products with variants; ETag / If-Match on updates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.errors import json_error
from storesync.api.schemas import Amount, Strict
from storesync.catalog import selectors, services
from storesync.catalog.models import Product
from storesync.core.errors import ValidationError
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get

router = Router(tags=["catalog"])


class VariantIn(Strict):
    sku: str = Field(max_length=64)
    price: Amount = Field(max_length=20)
    options: list[str] = Field(default_factory=list, max_length=3)
    barcode: str = Field("", max_length=64)
    compare_at_price: Amount | None = Field(None, max_length=20)
    cost: Amount | None = Field(None, max_length=20)
    weight_grams: int | None = Field(None, ge=0)
    hsn_code: str = Field("", max_length=8)
    tax_rate: str = Field("0", max_length=6, description="GST rate in percent, e.g. \"18\"")


class ProductIn(Strict):
    title: str = Field(max_length=255)
    handle: str = Field("", max_length=255)
    description: str = Field("", max_length=20000)
    vendor: str = Field("", max_length=255)
    product_type: str = Field("", max_length=255)
    status: str = "draft"
    tags: list[str] = Field(default_factory=list, max_length=100)
    options: list[str] = Field(default_factory=list, max_length=3)
    variants: list[VariantIn] = Field(max_length=100)


class ProductPatch(Strict):
    title: str | None = Field(None, max_length=255)
    description: str | None = Field(None, max_length=20000)
    vendor: str | None = Field(None, max_length=255)
    product_type: str | None = Field(None, max_length=255)
    status: str | None = None
    tags: list[str] | None = Field(None, max_length=100)


class VariantOut(Schema):
    id: uuid.UUID
    sku: str
    title: str
    options: list[str]
    barcode: str
    price: str
    compare_at_price: str | None
    cost: str | None
    weight_grams: int | None
    hsn_code: str
    tax_rate: str


class ProductImageOut(Schema):
    id: uuid.UUID
    variant_id: uuid.UUID | None
    alt_text: str
    position: int
    width: int
    height: int
    src: str


class ProductOut(Schema):
    id: uuid.UUID
    title: str
    handle: str
    description: str
    vendor: str
    product_type: str
    status: str
    tags: list[str]
    options: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    variants: list[VariantOut]
    images: list[ProductImageOut]


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


def _rate_bp(text: str, field: str) -> int:
    return to_minor(text, "INR", field=field)  # percent with two decimals = basis points


def _out(product: Product, currency: str) -> dict[str, Any]:
    def money(value: int | None) -> str | None:
        return None if value is None else from_minor(value, currency)

    variants = sorted(product.variants.all(), key=lambda v: v.position)
    return {
        "id": product.id, "title": product.title, "handle": product.handle,
        "description": product.description, "vendor": product.vendor,
        "product_type": product.product_type, "status": product.status, "tags": product.tags,
        "options": product.options, "version": product.version,
        "created_at": product.created_at, "updated_at": product.updated_at,
        "variants": [{
            "id": v.id, "sku": v.sku, "title": v.title,
            "options": [o for o in (v.option1, v.option2, v.option3) if o],
            "barcode": v.barcode, "price": money(v.price_minor),
            "compare_at_price": money(v.compare_at_minor), "cost": money(v.cost_minor),
            "weight_grams": v.weight_grams, "hsn_code": v.hsn_code,
            "tax_rate": f"{v.tax_rate_bp / 100:g}",
        } for v in variants],
        "images": [{
            "id": i.id, "variant_id": i.variant_id, "alt_text": i.alt_text,
            "position": i.position, "width": i.width, "height": i.height,
            "src": f"/api/v1/products/{product.id}/images/{i.id}/file",
        } for i in sorted(product.images.all(), key=lambda i: i.position)],
    }


def etag(version: int) -> str:
    return f'"v{version}"'


@router.post("", response={201: ProductOut}, summary="Create a product with its variants")
def create_product(request: HttpRequest, payload: ProductIn) -> Status:
    who = require(request, Perm.MANAGE_CATALOG)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    variants = []
    for i, v in enumerate(payload.variants):
        where = f"variants.{i}."
        variants.append(services.VariantInput(
            sku=v.sku, options=v.options, barcode=v.barcode,
            price_minor=to_minor(v.price, currency, field=where + "price"),
            compare_at_minor=None if v.compare_at_price is None
            else to_minor(v.compare_at_price, currency, field=where + "compare_at_price"),
            cost_minor=None if v.cost is None else to_minor(v.cost, currency, field=where + "cost"),
            weight_grams=v.weight_grams, hsn_code=v.hsn_code,
            tax_rate_bp=_rate_bp(v.tax_rate, where + "tax_rate"),
        ))
    data = payload.model_dump(exclude={"variants"})
    product = services.product_create(
        workspace_id=who.workspace_id, actor=who.actor,
        data=services.ProductInput(**data, variants=variants))
    fresh = selectors.product_get(workspace_id=who.workspace_id, product_id=product.id)
    return Status(201, _out(fresh, currency))


@router.get("", response=ProductPage, summary="List products, newest first")
def list_products(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                  limit: int = Query(50, ge=1, le=200),
                  status: str | None = Query(None, max_length=10),
                  vendor: str | None = Query(None, max_length=255),
                  collection: str | None = Query(None, max_length=64,
                                                 description="members of this collection")
                  ) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    currency = workspace_get(workspace_id=who.workspace_id).currency
    page = selectors.product_list(workspace_id=who.workspace_id, cursor=cursor, limit=limit,
                                  status=status, vendor=vendor, collection_id=collection)
    return {"items": [_out(p, currency) for p in page.items], "next_cursor": page.next_cursor}


@router.get("/{product_id}", response=ProductOut, summary="Read a product (with an ETag)")
def get_product(request: HttpRequest, response: HttpResponse, product_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    product = selectors.product_get(workspace_id=who.workspace_id, product_id=product_id)
    response["ETag"] = etag(product.version)
    return _out(product, workspace_get(workspace_id=who.workspace_id).currency)


@router.patch("/{product_id}", response={200: ProductOut, 412: dict},
              summary="Change a product; send If-Match with the ETag to refuse stale writes")
def update_product(request: HttpRequest, response: HttpResponse, product_id: str,
                   payload: ProductPatch) -> Any:
    who = require(request, Perm.MANAGE_CATALOG)
    product = selectors.product_get(workspace_id=who.workspace_id, product_id=product_id)
    changes = payload.model_dump(exclude_unset=True)
    if not changes or any(v is None for v in changes.values()):
        raise ValidationError("send the fields to change, with values", field="body")
    expected = None
    if_match = request.headers.get("If-Match")
    if if_match:
        if if_match.strip() != etag(product.version):
            return json_error(412, "precondition_failed",
                              "the product changed since you read it (ETag mismatch)", "If-Match")
        expected = product.version
    services.product_update(workspace_id=who.workspace_id, product_id=product.id,
                            expected_version=expected, changes=changes, actor=who.actor)
    fresh = selectors.product_get(workspace_id=who.workspace_id, product_id=product.id)
    response["ETag"] = etag(fresh.version)
    return _out(fresh, workspace_get(workspace_id=who.workspace_id).currency)
