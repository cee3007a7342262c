"""Writes for products and variants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from storesync.catalog.models import Product, ProductStatus, Variant
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

# GST rates in basis points: the 2025 slabs (5, 18, 40 %), the special rates (0.1, 0.25, 1.5,
# 3 %) and the former 12 and 28 % that older listings and invoices still carry.
GST_RATES_BP = frozenset({0, 10, 25, 150, 300, 500, 1200, 1800, 2800, 4000})
MAX_OPTIONS = 3
MAX_VARIANTS = 100


@dataclass
class VariantInput:
    sku: str
    price_minor: int
    options: list[str] = field(default_factory=list)
    barcode: str = ""
    compare_at_minor: int | None = None
    cost_minor: int | None = None
    weight_grams: int | None = None
    hsn_code: str = ""
    tax_rate_bp: int = 0


@dataclass
class ProductInput:
    title: str
    variants: list[VariantInput]
    handle: str = ""
    description: str = ""
    vendor: str = ""
    product_type: str = ""
    status: str = ProductStatus.DRAFT
    tags: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def _check_variant(index: int, variant: VariantInput, option_count: int) -> None:
    where = f"variants.{index}."
    sku = variant.sku.strip()
    if not sku or len(sku) > 64 or any(ch.isspace() for ch in sku):
        raise ValidationError("a SKU is 1-64 characters without spaces", field=where + "sku")
    if variant.price_minor < 0:
        raise ValidationError("a price cannot be negative", field=where + "price")
    for name in ("compare_at_minor", "cost_minor", "weight_grams"):
        value = getattr(variant, name)
        if value is not None and value < 0:
            raise ValidationError("cannot be negative", field=where + name.removesuffix("_minor"))
    if len(variant.options) != option_count:
        raise ValidationError(f"give one value for each of the {option_count} options",
                              field=where + "options")
    if any(not value.strip() for value in variant.options):
        raise ValidationError("give a value for every option", field=where + "options")
    if variant.hsn_code and not (variant.hsn_code.isdigit() and len(variant.hsn_code) in (4, 6, 8)):
        raise ValidationError("an HSN code has 4, 6 or 8 digits", field=where + "hsn_code")
    if variant.tax_rate_bp not in GST_RATES_BP:
        rates = ", ".join(f"{r / 100:g}%" for r in sorted(GST_RATES_BP))
        raise ValidationError(f"not a GST rate ({rates})", field=where + "tax_rate")


def _check_product(data: ProductInput) -> list[str]:
    if not data.title.strip():
        raise ValidationError("a product needs a title", field="title")
    if data.status not in ProductStatus.values:
        raise ValidationError(f"status is one of {', '.join(ProductStatus.values)}",
                              field="status")
    options = [o.strip() for o in data.options]
    if len(options) > MAX_OPTIONS or len(set(options)) != len(options) or not all(options):
        raise ValidationError("up to three distinct option names", field="options")
    if not data.variants:
        raise ValidationError("a product has at least one variant", field="variants")
    if len(data.variants) > MAX_VARIANTS:
        raise ValidationError(f"at most {MAX_VARIANTS} variants", field="variants")
    skus: set[str] = set()
    combos: set[tuple[str, ...]] = set()
    for index, variant in enumerate(data.variants):
        _check_variant(index, variant, len(options))
        if variant.sku.strip() in skus:
            raise ValidationError("this SKU appears twice", field=f"variants.{index}.sku")
        combo = tuple(v.strip() for v in variant.options)
        if combo in combos:
            raise ValidationError("two variants have the same option values",
                                  field=f"variants.{index}.options")
        skus.add(variant.sku.strip())
        combos.add(combo)
    return options


def _variant(product: Product, position: int, data: VariantInput) -> Variant:
    values = [*(v.strip() for v in data.options), "", "", ""]
    return Variant(
        workspace_id=product.workspace_id, product=product, sku=data.sku.strip(),
        barcode=data.barcode.strip(), title=" / ".join(v for v in values[:3] if v),
        option1=values[0], option2=values[1], option3=values[2], price_minor=data.price_minor,
        compare_at_minor=data.compare_at_minor, cost_minor=data.cost_minor,
        weight_grams=data.weight_grams, hsn_code=data.hsn_code, tax_rate_bp=data.tax_rate_bp,
        position=position,
    )


def product_create(*, workspace_id: uuid.UUID, data: ProductInput,
                   actor: audit.Actor) -> Product:
    """A product with its variants; SKUs are unique in the workspace (409 names the clash)."""
    options = _check_product(data)
    handle = slugify(data.handle or data.title)[:255]
    if not handle:
        raise ValidationError("the title gives no usable handle; set one", field="handle")
    with workspace_scope(workspace_id), transaction.atomic():
        taken = list(Variant.objects.filter(sku__in=[v.sku.strip() for v in data.variants])
                     .values_list("sku", flat=True)[:1])
        if taken:
            raise Conflict(f"SKU {taken[0]!r} is already used", field="sku")
        if Product.objects.filter(handle=handle).exists():
            handle = f"{handle}-{uuid.uuid4().hex[:6]}"
        try:
            product = Product.objects.create(
                workspace_id=workspace_id, title=data.title.strip(), handle=handle,
                description=data.description, vendor=data.vendor.strip(),
                product_type=data.product_type.strip(), status=data.status,
                tags=sorted({t.strip() for t in data.tags if t.strip()}), options=options,
            )
            Variant.objects.bulk_create(
                [_variant(product, i + 1, v) for i, v in enumerate(data.variants)]
            )
        except IntegrityError:
            raise Conflict("a SKU or handle is already used", field="sku") from None
    return product


VARIANT_EDITABLE = frozenset({"barcode", "price_minor", "compare_at_minor", "cost_minor",
                              "weight_grams", "hsn_code", "tax_rate_bp"})


def _apply_variant_changes(product: Product, changes: dict[uuid.UUID, dict[str, object]]) -> None:
    """Validate and save edits of existing variants (SKU and options stay as they are).

    Errors name the variant by its position in the product (``variants.1.price``)."""
    variants = {v.id: v for v in Variant.objects.filter(product=product).order_by("position")}
    positions = {variant_id: index for index, variant_id in enumerate(variants)}
    for variant_id, fields in changes.items():
        variant = variants.get(variant_id)
        if variant is None:
            raise ValidationError("not a variant of this product", field="variants")
        where = f"variants.{positions[variant_id]}."
        unknown = set(fields) - VARIANT_EDITABLE
        if unknown:
            raise ValidationError("not a field that can be changed here",
                                  field=where + sorted(unknown)[0])
        for name, value in fields.items():
            setattr(variant, name, value)
        _check_variant(positions[variant_id], VariantInput(
            sku=variant.sku, price_minor=variant.price_minor, barcode=variant.barcode,
            options=[o for o in (variant.option1, variant.option2, variant.option3) if o],
            compare_at_minor=variant.compare_at_minor, cost_minor=variant.cost_minor,
            weight_grams=variant.weight_grams, hsn_code=variant.hsn_code,
            tax_rate_bp=variant.tax_rate_bp), len(product.options))
        variant.version += 1
        variant.save()


def product_update(*, workspace_id: uuid.UUID, product_id: uuid.UUID, expected_version: int | None,
                   changes: dict[str, object], actor: audit.Actor,
                   variant_changes: dict[uuid.UUID, dict[str, object]] | None = None) -> Product:
    """Change product fields and, optionally, fields of its existing variants (prices, tax,
    HSN, weight, barcode), all in one transaction. With ``expected_version`` a stale write is
    a Conflict, not lost; any change bumps the product's version."""
    allowed = {"title", "description", "vendor", "product_type", "status", "tags"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError("not a field that can be changed here", field=sorted(unknown)[0])
    if "status" in changes and changes["status"] not in ProductStatus.values:
        raise ValidationError(f"status is one of {', '.join(ProductStatus.values)}",
                              field="status")
    if "title" in changes and not str(changes["title"]).strip():
        raise ValidationError("a product needs a title", field="title")
    with workspace_scope(workspace_id), transaction.atomic():
        product = Product.objects.select_for_update().filter(id=product_id).first()
        if product is None:
            raise NotFound("no such product")
        if expected_version is not None and product.version != expected_version:
            raise Conflict("the product changed since you read it; reload and retry",
                           field="version")
        for name, value in changes.items():
            setattr(product, name, value)
        if variant_changes:
            _apply_variant_changes(product, variant_changes)
        product.version += 1
        product.save()
    return product


def variant_add(*, workspace_id: uuid.UUID, product_id: uuid.UUID, expected_version: int | None,
                data: VariantInput, actor: audit.Actor) -> Variant:
    """Add a variant to an existing product (checked like ``product_create``'s); bumps the
    product's version, and a stale ``expected_version`` is a Conflict."""
    with workspace_scope(workspace_id), transaction.atomic():
        product = Product.objects.select_for_update().filter(id=product_id).first()
        if product is None:
            raise NotFound("no such product")
        if expected_version is not None and product.version != expected_version:
            raise Conflict("the product changed since you read it; reload and retry",
                           field="version")
        existing = list(Variant.objects.filter(product=product))
        _check_variant(len(existing), data, len(product.options))
        combo = tuple(v.strip() for v in data.options)
        if any((v.option1, v.option2, v.option3)[:len(combo)] == combo for v in existing):
            raise ValidationError("another variant has the same option values",
                                  field=f"variants.{len(existing)}.options")
        if Variant.objects.filter(sku=data.sku.strip()).exists():
            raise Conflict(f"SKU {data.sku.strip()!r} is already used", field="sku")
        position = max((v.position for v in existing), default=0) + 1
        try:
            variant = _variant(product, position, data)
            variant.save(force_insert=True)
        except IntegrityError:
            raise Conflict(f"SKU {data.sku.strip()!r} is already used", field="sku") from None
        product.version += 1
        product.save(update_fields=["version", "updated_at"])
    return variant
