"""Products: list (search, status, keyset pages), create with options and variants, edit under
optimistic concurrency (the product's version travels in the form), archive and restore.

Every write is ``storesync.catalog.services``; their errors land next to the field they name,
including a variant's field (``variants.2.sku`` → row 3, SKU).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from storesync.catalog import selectors, services
from storesync.catalog.models import Product, ProductStatus, Variant
from storesync.core.errors import Conflict, NotFound, StoresyncError, ValidationError
from storesync.core.permissions import Perm
from storesync.core.tenancy import workspace_scope
from storesync.inventory.selectors import available_by_product, levels_of_products
from storesync.web.membership import member_of, member_required
from storesync.web.views.forms import GST_CHOICES, MoneyField, add_error, with_currency

PAGE_SIZE = 50
DEFAULT_ROWS, MAX_ROWS = 3, 50
STALE = ("This product was changed since you opened it (by someone else, or in another tab). "
         "Nothing was saved. Open the current version, then make your changes again.")
# Service field names of a variant → this page's form fields.
VARIANT_FIELDS = {"sku": "sku", "price": "price", "compare_at": "compare_at", "cost": "cost",
                  "weight_grams": "weight_grams", "hsn_code": "hsn_code", "tax_rate": "tax_rate",
                  "options": "option1", "barcode": "barcode"}


class ProductForm(forms.Form):
    title = forms.CharField(label="Title", max_length=255)
    status = forms.ChoiceField(label="Status", choices=ProductStatus.choices,
                               initial=ProductStatus.DRAFT)
    vendor = forms.CharField(label="Vendor", max_length=255, required=False)
    product_type = forms.CharField(label="Type", max_length=255, required=False)
    tags = forms.CharField(label="Tags", max_length=500, required=False,
                           help_text="Separated by commas.")
    description = forms.CharField(label="Description", required=False, max_length=20_000,
                                  widget=forms.Textarea(attrs={"rows": 4}))

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class NewProductForm(ProductForm):
    option1 = forms.CharField(label="Option 1", max_length=100, required=False,
                              help_text="e.g. Size. Leave empty for a product without options.")
    option2 = forms.CharField(label="Option 2", max_length=100, required=False)
    option3 = forms.CharField(label="Option 3", max_length=100, required=False)

    def options(self) -> list[str]:
        return [self.cleaned_data[n].strip() for n in ("option1", "option2", "option3")
                if self.cleaned_data[n].strip()]


class EditProductForm(ProductForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class VariantFieldsForm(forms.Form):
    """What every variant row has, new or existing."""

    price = MoneyField(label="Price")
    compare_at = MoneyField(label="Compare-at", required=False)
    cost = MoneyField(label="Cost", required=False)
    weight_grams = forms.IntegerField(label="Weight (g)", required=False, min_value=0,
                                      max_value=10_000_000)
    hsn_code = forms.CharField(label="HSN", max_length=8, required=False)
    tax_rate = forms.TypedChoiceField(label="GST", choices=GST_CHOICES, coerce=int,
                                      initial="0")
    barcode = forms.CharField(label="Barcode", max_length=64, required=False)


class NewVariantForm(VariantFieldsForm):
    sku = forms.CharField(label="SKU", max_length=64)
    option1 = forms.CharField(label="Option 1 value", max_length=100, required=False)
    option2 = forms.CharField(label="Option 2 value", max_length=100, required=False)
    option3 = forms.CharField(label="Option 3 value", max_length=100, required=False)
    field_order = ["sku", "option1", "option2", "option3", "price", "compare_at", "cost",
                   "weight_grams", "hsn_code", "tax_rate", "barcode"]


class VariantEditForm(VariantFieldsForm):
    variant_id = forms.UUIDField(widget=forms.HiddenInput)


def new_variants(rows: int) -> type[forms.BaseFormSet]:
    """Blank variant rows (``extra``, so that rows left empty are ignored, not required)."""
    return forms.formset_factory(NewVariantForm, extra=rows, max_num=MAX_ROWS,
                                 absolute_max=MAX_ROWS)

EditVariants = forms.formset_factory(VariantEditForm, extra=0, max_num=100, absolute_max=100)


def _currency_forms(forms_: list[forms.Form], currency: str) -> None:
    for form in forms_:
        with_currency(form, currency)


def _variant_error(rows: list[forms.Form], exc: StoresyncError) -> bool:
    """Put a ``variants.N.field`` error on row N; True when it found a place."""
    parts = (exc.field or "").split(".")
    if len(parts) == 3 and parts[0] == "variants" and parts[1].isdigit():
        index = int(parts[1])
        if index < len(rows):
            name = VARIANT_FIELDS.get(parts[2])
            rows[index].add_error(name if name in rows[index].fields else None, exc.message)
            return True
    if isinstance(exc, Conflict) and exc.field == "sku":  # "SKU 'X' is already used"
        for row in rows:
            if repr(row.cleaned_data.get("sku", "").strip()) in exc.message:
                row.add_error("sku", exc.message)
                return True
    return False


@require_GET
@member_required()
def product_list(request: HttpRequest) -> HttpResponse:
    """Search by part of the title or SKU, filter by status; newest first, keyset pages."""
    member = member_of(request)
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    if status not in ProductStatus.values:
        status = ""
    try:
        page = selectors.product_list(workspace_id=member.workspace.id, search=search or None,
                                      status=status or None, limit=PAGE_SIZE,
                                      cursor=request.GET.get("cursor") or None)
    except ValidationError:
        raise Http404("That page of products does not exist.") from None
    stock = available_by_product(workspace_id=member.workspace.id,
                                 product_ids=[p.id for p in page.items])
    return render(request, "storesync/products/list.html", {
        "products": [(p, stock[p.id]) for p in page.items], "next_cursor": page.next_cursor,
        "q": search,
        "status": status, "statuses": ProductStatus.choices,
        "paged": bool(request.GET.get("cursor")), "currency": member.workspace.currency,
    })


def _rows(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("rows", DEFAULT_ROWS)), MAX_ROWS))
    except ValueError:
        return DEFAULT_ROWS


def _create(request: HttpRequest, form: NewProductForm, rows: Any) -> Product | None:
    """Create from valid forms; None with the errors placed on the forms."""
    member = member_of(request)
    filled = [row for row in rows.forms if row.has_changed()]
    if not filled:
        form.add_error(None, "Add at least one variant: a SKU and a price.")
        return None
    data = services.ProductInput(
        title=form.cleaned_data["title"], status=form.cleaned_data["status"],
        vendor=form.cleaned_data["vendor"], product_type=form.cleaned_data["product_type"],
        description=form.cleaned_data["description"], tags=form.cleaned_data["tags"],
        options=form.options(),
        variants=[services.VariantInput(
            sku=row.cleaned_data["sku"], price_minor=row.cleaned_data["price"],
            options=[row.cleaned_data[f"option{i}"] for i in range(1, len(form.options()) + 1)],
            compare_at_minor=row.cleaned_data["compare_at"], cost_minor=row.cleaned_data["cost"],
            weight_grams=row.cleaned_data["weight_grams"], hsn_code=row.cleaned_data["hsn_code"],
            tax_rate_bp=row.cleaned_data["tax_rate"], barcode=row.cleaned_data["barcode"],
        ) for row in filled])
    try:
        return services.product_create(workspace_id=member.workspace.id, data=data,
                                       actor=member.actor)
    except StoresyncError as exc:
        if not _variant_error(filled, exc):
            add_error(form, exc)
        return None


@require_http_methods(["GET", "POST"])
@member_required(Perm.MANAGE_CATALOG)
def product_create(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    currency = member.workspace.currency
    posted = request.POST if request.method == "POST" else None
    form = NewProductForm(posted)
    rows = new_variants(_rows(request))(posted, prefix="v")
    _currency_forms([form, *rows.forms], currency)
    if posted is not None and form.is_valid() and rows.is_valid():
        product = _create(request, form, rows)
        if product is not None:
            messages.success(request, f"Product “{product.title}” created.")
            return redirect("web:product", product_id=product.id)
    return render(request, "storesync/products/new.html", {
        "form": form, "rows": rows, "currency": currency, "more_rows": _rows(request) + 3,
    }, status=400 if posted is not None else 200)


def _product(request: HttpRequest, product_id: uuid.UUID) -> Product:
    try:
        return selectors.product_get(workspace_id=member_of(request).workspace.id,
                                     product_id=product_id)
    except NotFound:
        raise Http404("There is no such product in this workspace.") from None


def _variants(product: Product) -> list[Variant]:
    with workspace_scope(product.workspace_id):
        return sorted(product.variants.all(), key=lambda v: v.position)


def _edit_initial(product: Product) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    head = {"title": product.title, "status": product.status, "vendor": product.vendor,
            "product_type": product.product_type, "tags": ", ".join(product.tags),
            "description": product.description, "version": product.version}
    rows = [{"variant_id": v.id, "price": v.price_minor, "compare_at": v.compare_at_minor,
             "cost": v.cost_minor, "weight_grams": v.weight_grams, "hsn_code": v.hsn_code,
             "tax_rate": str(v.tax_rate_bp), "barcode": v.barcode} for v in _variants(product)]
    return head, rows


def _update(request: HttpRequest, product: Product, form: EditProductForm, rows: Any) -> bool:
    member = member_of(request)
    changes = {name: form.cleaned_data[name] for name in
               ("title", "status", "vendor", "product_type", "tags", "description")}
    variant_changes = {}
    for row in rows.forms:
        data = row.cleaned_data
        variant_changes[data["variant_id"]] = {
            "price_minor": data["price"], "compare_at_minor": data["compare_at"],
            "cost_minor": data["cost"], "weight_grams": data["weight_grams"],
            "hsn_code": data["hsn_code"].strip(), "tax_rate_bp": data["tax_rate"],
            "barcode": data["barcode"].strip()}
    try:
        services.product_update(workspace_id=member.workspace.id, product_id=product.id,
                                expected_version=form.cleaned_data["version"], changes=changes,
                                variant_changes=variant_changes, actor=member.actor)
    except Conflict as exc:
        form.add_error(None, STALE if exc.field == "version" else exc.message)
        return False
    except StoresyncError as exc:
        if not _variant_error(rows.forms, exc):
            add_error(form, exc)
        return False
    return True


class AddVariantForm(NewVariantForm):
    """One more variant for an existing product: a value for each of its options."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, options: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for number in range(1, 4):
            if number > len(options):
                del self.fields[f"option{number}"]
            else:
                self.fields[f"option{number}"].label = options[number - 1]
                self.fields[f"option{number}"].required = True


def _detail_page(request: HttpRequest, product: Product, *, form: EditProductForm | None = None,
                 rows: Any = None, add: AddVariantForm | None = None,
                 status: int = 200) -> HttpResponse:
    """The product page; bound forms passed in replace the fresh ones (with their errors)."""
    member = member_of(request)
    head, initial_rows = _edit_initial(product)
    form = form if form is not None else EditProductForm(initial=head)
    rows = rows if rows is not None else EditVariants(prefix="v", initial=initial_rows)
    add = add if add is not None else AddVariantForm(prefix="new", options=product.options,
                                initial={"version": product.version})
    _currency_forms([form, *rows.forms, add], member.workspace.currency)
    return render(request, "storesync/products/detail.html", {
        "product": product, "form": form, "formset": rows, "add": add,
        "rows": list(zip(rows.forms, _variants(product), strict=False)),
        "levels": levels_of_products(workspace_id=member.workspace.id,
                                     product_ids=[product.id]),
        "can_edit": member.can(Perm.MANAGE_CATALOG), "currency": member.workspace.currency,
    }, status=status)


@require_http_methods(["GET", "POST"])
@member_required()
def product_detail(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    """GET shows the product (editable for ``manage_catalog``); POST saves under its version."""
    member = member_of(request)
    product = _product(request, product_id)
    if request.method == "GET":
        return _detail_page(request, product)
    if not member.can(Perm.MANAGE_CATALOG):
        raise PermissionDenied(f"Your role ({member.membership.role}) lacks the "
                               "“manage_catalog” permission.")
    head, initial_rows = _edit_initial(product)
    form = EditProductForm(request.POST, initial=head)
    rows = EditVariants(request.POST, prefix="v", initial=initial_rows)
    _currency_forms([form, *rows.forms], member.workspace.currency)
    if form.is_valid() and rows.is_valid() and _update(request, product, form, rows):
        messages.success(request, "Saved.")
        return redirect("web:product", product_id=product.id)
    return _detail_page(request, product, form=form, rows=rows,
                        status=409 if STALE in form.non_field_errors() else 400)


@require_POST
@member_required(Perm.MANAGE_CATALOG)
def variant_add(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    """Add one variant (SKU, a value per option, prices, tax) under the product's version."""
    member = member_of(request)
    product = _product(request, product_id)
    add = AddVariantForm(request.POST, prefix="new", options=product.options)
    with_currency(add, member.workspace.currency)
    if add.is_valid():
        data = add.cleaned_data
        try:
            variant = services.variant_add(
                workspace_id=member.workspace.id, product_id=product.id,
                expected_version=data["version"], actor=member.actor,
                data=services.VariantInput(
                    sku=data["sku"], price_minor=data["price"],
                    options=[data[f"option{i}"] for i in range(1, len(product.options) + 1)],
                    compare_at_minor=data["compare_at"], cost_minor=data["cost"],
                    weight_grams=data["weight_grams"], hsn_code=data["hsn_code"],
                    tax_rate_bp=data["tax_rate"], barcode=data["barcode"]))
        except StoresyncError as exc:
            last = (exc.field or "").rsplit(".", 1)[-1]
            target = VARIANT_FIELDS.get(last)
            add.add_error(target if target in add.fields else None,
                          STALE if exc.field == "version" else exc.message)
        else:
            messages.success(request, f"Variant {variant.sku} added.")
            return redirect("web:product", product_id=product.id)
    return _detail_page(request, product, add=add, status=409 if STALE in str(add.errors)
                        else 400)


@require_POST
@member_required(Perm.MANAGE_CATALOG)
def product_archive(request: HttpRequest, product_id: uuid.UUID) -> HttpResponse:
    """``action=archive`` hides the product from sale; ``action=restore`` makes it a draft."""
    member = member_of(request)
    product = _product(request, product_id)
    restore = request.POST.get("action") == "restore"
    services.product_update(workspace_id=member.workspace.id, product_id=product.id,
                            expected_version=None, actor=member.actor,
                            changes={"status": ProductStatus.DRAFT if restore
                                     else ProductStatus.ARCHIVED})
    messages.success(request, f"“{product.title}” " + (
        "restored as a draft." if restore else "archived: it is no longer offered for sale."))
    return redirect("web:product", product_id=product.id)
