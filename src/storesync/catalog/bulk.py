"""Products and variants by the thousand: CSV import (validate all, then upsert in batches)
and CSV export, in the same columns so an export can be edited and imported back.

The columns follow Shopify's product CSV where it makes sense: one row per variant, rows of a
product together under its ``handle``, product fields on its first row (later rows may repeat
them or leave them empty), up to three option names with a value per variant. Shopify's own
header names (``Variant SKU``, ``Variant Price``, ``Cost per item`` ...) are accepted too.

An existing product (same handle) is updated and its variants upserted by SKU; a SKU used by
another product is refused. Every rule of ``catalog.services`` applies: rows are checked with
its own validators, and ``products_bulk_upsert`` is the batched form of ``product_create``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Prefetch
from django.utils import timezone
from django.utils.text import slugify

from storesync.catalog.models import Product, ProductStatus, Variant
from storesync.catalog.services import (
    GST_RATES_BP,
    MAX_VARIANTS,
    ProductInput,
    VariantInput,
    _check_product,
    _check_variant,
    _variant,
)
from storesync.core.bulkwrite import tenant_bulk_update
from storesync.core.csvio import Columns, Problem, Record, RowCheck, csv_chunks
from storesync.core.errors import Conflict, ValidationError
from storesync.core.imports import Unit, run_import_job_with
from storesync.core.jobs import JobContext
from storesync.core.money import from_minor
from storesync.core.pagination import keyset_batches
from storesync.core.selectors import workspace_get
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

PRODUCT_COLUMNS = ("title", "description", "vendor", "product_type", "tags", "status",
                   "option1_name", "option2_name", "option3_name")
HEADER = ("handle", "title", "description", "vendor", "product_type", "tags", "status",
          "option1_name", "option1_value", "option2_name", "option2_value",
          "option3_name", "option3_value", "sku", "barcode", "price", "compare_at_price",
          "cost", "weight_grams", "hsn_code", "tax_rate")
COLUMNS = Columns(
    required=("handle", "title", "sku", "price"),
    optional=tuple(c for c in HEADER if c not in ("handle", "title", "sku", "price")),
    aliases={"body_(html)": "description", "variant_sku": "sku", "variant_price": "price",
             "type": "product_type",
             "variant_compare_at_price": "compare_at_price", "variant_barcode": "barcode",
             "cost_per_item": "cost", "variant_grams": "weight_grams",
             "variant_hsn_code": "hsn_code", "variant_tax_rate": "tax_rate"},
)
# Where catalog.services names a problem ("variants.0.compare_at") -> the CSV column.
_SERVICE_FIELDS = {"sku": "sku", "price": "price", "compare_at": "compare_at_price",
                   "cost": "cost", "weight_grams": "weight_grams", "options": "option1_value",
                   "hsn_code": "hsn_code", "tax_rate": "tax_rate", "title": "title",
                   "status": "status", "handle": "handle", "variants": None}
UPDATED_PRODUCT_FIELDS = ["title", "description", "vendor", "product_type", "status", "tags",
                          "version", "updated_at"]
UPDATED_VARIANT_FIELDS = ["barcode", "title", "option1", "option2", "option3", "price_minor",
                          "compare_at_minor", "cost_minor", "weight_grams", "hsn_code",
                          "tax_rate_bp", "version", "updated_at"]


@dataclass
class ProductDraft:
    """One product of the file, parsed: the service input and the row of each variant."""

    data: ProductInput
    rows: list[int]


def _rate_bp(check: RowCheck) -> int:
    text = check.values.get("tax_rate", "").removesuffix("%").strip()
    if not text:
        return 0
    try:
        bp = Decimal(text) * 100
    except InvalidOperation:
        bp = Decimal("NaN")
    if not bp.is_finite() or bp != bp.to_integral_value() or int(bp) not in GST_RATES_BP:
        rates = ", ".join(f"{r / 100:g}" for r in sorted(GST_RATES_BP))
        check.fail("tax_rate", f"not a GST rate in percent ({rates})", check.values["tax_rate"])
        return 0
    return int(bp)


class ProductImporter:
    """The catalog's ``core.imports.Importer``: units are products (all their variant rows)."""

    columns = COLUMNS

    def __init__(self, *, workspace_id: uuid.UUID, currency: str, actor: audit.Actor) -> None:
        self.workspace_id = workspace_id
        self.currency = currency
        self.actor = actor
        self._handles: dict[str, int] = {}
        self._skus: dict[str, int] = {}

    def units(self, records: Iterable[Record | Problem]) -> Iterator[Unit[ProductDraft]]:
        self._handles, self._skus = {}, {}
        group: list[Record] = []
        extra = 0
        for record in records:
            if isinstance(record, Problem):
                yield Unit(record.row or 0, 1, None, [record])
                continue
            handle = slugify(record.values.get("handle", ""))[:255]
            if not handle:
                yield Unit(record.row, 1, None, [Problem(
                    record.row, "handle", "a handle (letters, digits, dashes) is required",
                    record.values.get("handle", ""))])
                continue
            if group and handle != slugify(group[0].values["handle"])[:255]:
                yield self._unit(group, extra)
                group, extra = [], 0
            if len(group) < MAX_VARIANTS:
                group.append(record)
            else:
                extra += 1  # counted and reported, not kept: memory stays bounded
        if group:
            yield self._unit(group, extra)

    def _unit(self, records: list[Record], extra: int) -> Unit[ProductDraft]:
        first = records[0]
        handle = slugify(first.values["handle"])[:255]
        checks = [RowCheck(r) for r in records]
        head = checks[0]
        if handle in self._handles:
            head.fail("handle", f"the rows of a product must be together; {handle!r} also "
                      f"appears at row {self._handles[handle]}")
        self._handles.setdefault(handle, first.row)
        if extra:
            head.fail("handle", f"a product has at most {MAX_VARIANTS} variants; this one has "
                      f"{len(records) + extra} rows")
        names = [head.text(f"option{i}_name", max_length=100) for i in (1, 2, 3)]
        while names and not names[-1]:
            names.pop()
        if not all(names):
            head.fail("option1_name", "option names go in order: option1_name first")
        status = head.text("status").lower() or ProductStatus.DRAFT
        if status not in ProductStatus.values:
            head.fail("status", f"one of {', '.join(ProductStatus.values)}", status)
        for check in checks[1:]:
            for column in PRODUCT_COLUMNS:
                value = check.values.get(column, "")
                if value and value != first.values.get(column, ""):
                    check.fail(column, f"differs from row {first.row}, the product's first row; "
                               "repeat that value or leave it empty", value)
        variants = [self._variant(check, len(names)) for check in checks]
        data = ProductInput(
            title=head.text("title", required=True), handle=handle, status=status,
            description=head.text("description", max_length=20000),
            vendor=head.text("vendor"), product_type=head.text("product_type"),
            tags=[t.strip() for t in head.text("tags", max_length=5000).split(",") if t.strip()],
            options=names, variants=[v for v in variants if v is not None])
        problems = [p for check in checks for p in check.problems]
        if not problems:
            try:
                _check_product(data)
            except ValidationError as exc:
                problems.append(self._service_problem(exc, records))
        draft = None if problems else ProductDraft(data, [r.row for r in records])
        return Unit(first.row, len(records) + extra, draft, problems)

    def _variant(self, check: RowCheck, option_count: int) -> VariantInput | None:
        sku = check.text("sku", required=True, max_length=64)
        if sku in self._skus:
            check.fail("sku", f"this SKU is also on row {self._skus[sku]}", sku)
        elif sku:
            self._skus[sku] = check.row
        values = [check.text(f"option{i}_value", max_length=100) for i in (1, 2, 3)]
        for i, value in enumerate(values, start=1):
            if i > option_count and value:
                check.fail(f"option{i}_value", f"the product has {option_count} option "
                           f"name(s), so no option{i} value", value)
            elif i <= option_count and not value:
                check.fail(f"option{i}_value", "each variant needs a value for every option")
        variant = VariantInput(
            sku=sku, price_minor=check.money("price", self.currency, required=True) or 0,
            options=values[:option_count], barcode=check.text("barcode", max_length=64),
            compare_at_minor=check.money("compare_at_price", self.currency),
            cost_minor=check.money("cost", self.currency),
            weight_grams=check.integer("weight_grams"),
            hsn_code=check.text("hsn_code", max_length=8), tax_rate_bp=_rate_bp(check))
        if check.problems:
            return None
        try:
            _check_variant(0, variant, option_count)
        except ValidationError as exc:
            column = _SERVICE_FIELDS.get((exc.field or "").rsplit(".", 1)[-1])
            check.fail(column, exc.message, check.values.get(column or "", ""))
            return None
        return variant

    def _service_problem(self, exc: ValidationError, records: list[Record]) -> Problem:
        parts = (exc.field or "").split(".")
        if parts[0] == "variants" and len(parts) == 3 and parts[1].isdigit():
            record = records[int(parts[1])]
            return Problem(record.row, _SERVICE_FIELDS.get(parts[2], parts[2]), exc.message)
        column = "option1_name" if parts[0] == "options" else _SERVICE_FIELDS.get(parts[0])
        return Problem(records[0].row, column, exc.message)

    def check(self, units: list[Unit[ProductDraft]]) -> None:
        drafts = {u.item.data.handle: u for u in units if u.item is not None}
        sku_rows = {v.sku: (unit, row) for unit in drafts.values() if unit.item is not None
                    for v, row in zip(unit.item.data.variants, unit.item.rows, strict=True)}
        with workspace_scope(self.workspace_id):
            used = list(Variant.objects.filter(sku__in=list(sku_rows)).values_list(
                "sku", "product__handle"))
            existing = list(Product.objects.filter(handle__in=list(drafts)).annotate(
                variant_count=Count("variants")))
        for sku, handle in used:
            unit, row = sku_rows[sku]
            assert unit.item is not None
            if handle != unit.item.data.handle:  # its own product's SKU is an update
                unit.problems.append(Problem(row, "sku", f"already used by product {handle!r}",
                                             sku))
        existing_skus = {sku for sku, _ in used}
        for product in existing:
            unit = drafts[product.handle]
            assert unit.item is not None
            data = unit.item.data
            if list(product.options) != data.options:
                unit.problems.append(Problem(
                    unit.first_row, "option1_name", f"product {product.handle!r} exists with "
                    f"options {product.options or 'none'}; an import cannot change them"))
            added = sum(1 for v in data.variants if v.sku not in existing_skus)
            if product.variant_count + added > MAX_VARIANTS:
                unit.problems.append(Problem(unit.first_row, "handle", f"product "
                                             f"{product.handle!r} would have more than "
                                             f"{MAX_VARIANTS} variants"))

    def write(self, items: list[ProductDraft]) -> dict[str, int]:
        return products_bulk_upsert(workspace_id=self.workspace_id,
                                    products=[d.data for d in items], actor=self.actor)


def _apply_variant(variant: Variant, data: VariantInput, now: Any) -> None:
    fresh = _variant(variant.product, variant.position, data)
    for name in UPDATED_VARIANT_FIELDS[:-2]:
        setattr(variant, name, getattr(fresh, name))
    variant.version += 1
    variant.updated_at = now


def products_bulk_upsert(*, workspace_id: uuid.UUID, products: list[ProductInput],
                         actor: audit.Actor) -> dict[str, int]:
    """Create or update products by handle and their variants by SKU, in one transaction.

    The batched form of ``product_create``, with its rules: each product is checked by the
    same validators; a SKU that belongs to another product, or a change of option names, is a
    Conflict and nothing of the batch is written. Returns counts of what was created/updated.
    """
    for data in products:
        _check_product(data)
        if not data.handle or slugify(data.handle) != data.handle:
            raise ValidationError("a product needs a handle of letters, digits and dashes",
                                  field="handle")
    now = timezone.now()
    counts = dict.fromkeys(("products_created", "products_updated", "variants_created",
                            "variants_updated"), 0)
    new_products: list[Product] = []
    new_variants: list[Variant] = []
    changed_variants: list[Variant] = []
    with workspace_scope(workspace_id), transaction.atomic():
        handles = [d.handle for d in products]
        existing = {p.handle: p for p in
                    Product.objects.select_for_update().filter(handle__in=handles).order_by("id")}
        by_sku = {v.sku: v for v in Variant.objects.select_for_update().filter(
            sku__in=[v.sku.strip() for d in products for v in d.variants]).order_by("id")}
        last_position = dict(Variant.objects.filter(product__in=list(existing.values()))
                             .values("product_id").annotate(top=Max("position"))
                             .values_list("product_id", "top"))
        for data in products:
            product = existing.get(data.handle)
            if product is None:
                product = Product(workspace_id=workspace_id, handle=data.handle,
                                  options=data.options)
                new_products.append(product)
            elif product.options != data.options:
                raise Conflict(f"product {data.handle!r} has options {product.options}; an "
                               "import cannot change them", field="options")
            else:
                product.version += 1
                counts["products_updated"] += 1
            product.title, product.vendor = data.title.strip(), data.vendor.strip()
            product.description = data.description
            product.product_type, product.status = data.product_type.strip(), data.status
            product.tags = sorted({t.strip() for t in data.tags if t.strip()})
            product.updated_at = now
            position = last_position.get(product.id, 0)
            for variant_data in data.variants:
                variant = by_sku.get(variant_data.sku.strip())
                if variant is None:
                    position += 1
                    new_variants.append(_variant(product, position, variant_data))
                elif variant.product_id != product.id:
                    raise Conflict(f"SKU {variant.sku!r} belongs to another product", field="sku")
                else:
                    variant.product = product
                    _apply_variant(variant, variant_data, now)
                    changed_variants.append(variant)
        try:
            Product.objects.bulk_create(new_products, batch_size=500)
            tenant_bulk_update(list(existing.values()), UPDATED_PRODUCT_FIELDS)
            Variant.objects.bulk_create(new_variants, batch_size=500)
            tenant_bulk_update(changed_variants, UPDATED_VARIANT_FIELDS)
        except IntegrityError:
            raise Conflict("a SKU or handle is already used", field="sku") from None
    counts["products_created"] = len(new_products)
    counts["variants_created"] = len(new_variants)
    counts["variants_updated"] = len(changed_variants)
    return counts


def products_csv(*, workspace_id: uuid.UUID, currency: str,
                 batch_size: int = 200) -> Iterator[str]:
    """Every variant as one CSV row (the import's columns), streamed in keyset batches."""

    def products() -> Any:
        variants = Variant.objects.order_by("position", "id")
        return Product.objects.prefetch_related(Prefetch("variants", queryset=variants))

    def rows() -> Iterator[list[Any]]:
        for batch in keyset_batches(products, workspace_id=workspace_id,
                                    batch_size=batch_size):
            for product in batch:
                names = [*product.options, "", "", ""]
                for variant in product.variants.all():
                    yield _product_row(product, variant, names, currency)

    return csv_chunks(HEADER, rows())


def _product_row(product: Product, variant: Variant, names: list[str],
                 currency: str) -> list[Any]:
    def money(minor: int | None) -> str:
        return "" if minor is None else from_minor(minor, currency)

    return [product.handle, product.title, product.description, product.vendor,
            product.product_type, ", ".join(product.tags), product.status,
            names[0], variant.option1, names[1], variant.option2, names[2], variant.option3,
            variant.sku, variant.barcode, money(variant.price_minor),
            money(variant.compare_at_minor), money(variant.cost_minor), variant.weight_grams,
            variant.hsn_code, f"{variant.tax_rate_bp / 100:g}"]


def run_import_job(context: JobContext) -> dict[str, Any]:
    """The runner of ``import.products`` jobs (``core.jobs.RUNNERS``)."""
    workspace = workspace_get(workspace_id=context.workspace_id)
    importer = ProductImporter(workspace_id=workspace.id, currency=workspace.currency,
                               actor=context.actor)
    return run_import_job_with(context, importer)
