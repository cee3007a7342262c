"""Products pages: search and pages, create with options and variants, edit under the
product's version (a stale form is refused, not lost), archive, roles and isolation."""

from __future__ import annotations

import re

from django.test import Client

from storesync.catalog.models import Product, Variant
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.tenancy import workspace_scope
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code

ROW = {"sku": "", "option1": "", "option2": "", "option3": "", "price": "", "compare_at": "",
       "cost": "", "weight_grams": "", "hsn_code": "", "tax_rate": "0", "barcode": ""}


def _new_product(**variants: dict[str, str]) -> dict[str, str]:
    """The create form as a browser posts it: product fields, then numbered variant rows."""
    data = {"title": "Linen Shirt", "status": "active", "vendor": "Acme", "product_type": "",
            "tags": "summer, linen", "description": "", "option1": "Size", "option2": "",
            "option3": "", "v-TOTAL_FORMS": "3", "v-INITIAL_FORMS": "0"}
    for index in range(3):
        row = {**ROW, **variants.get(f"row{index}", {})}
        data.update({f"v-{index}-{name}": value for name, value in row.items()})
    return data


def _products(ws):
    with workspace_scope(ws):
        return list(Product.objects.all())


def _edit_form(html: str) -> dict[str, str]:
    """The edit form's current values, as the browser would post them back."""
    data = dict(re.findall(r'<input type="(?:hidden|text|number)" name="([^"]+)" value="([^"]*)"',
                           html))
    for name in re.findall(r'<input type="text" name="([^"]+)"(?! value)', html):
        data.setdefault(name, "")
    for name, value in re.findall(
            r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', html, re.S):
        data[name] = value
    data.setdefault("description", "")
    return data


def test_create_a_product_with_options_and_variants(owner_client, workspace):
    response = owner_client.post("/products/new", _new_product(
        row0={"sku": "LIN-S", "option1": "S", "price": "1,299.50", "compare_at": "1499",
              "cost": "600", "weight_grams": "250", "hsn_code": "6205", "tax_rate": "500"},
        row1={"sku": "LIN-M", "option1": "M", "price": "1299.50", "tax_rate": "500"}))
    assert response.status_code == 302
    (product,) = _products(workspace.workspace.id)
    assert response["Location"] == f"/products/{product.id}/"
    with workspace_scope(workspace.workspace.id):
        variants = {v.sku: v for v in Variant.objects.all()}
    assert product.options == ["Size"] and product.tags == ["linen", "summer"]
    small = variants["LIN-S"]
    assert (small.price_minor, small.compare_at_minor, small.cost_minor) == (129950, 149900, 60000)
    assert (small.weight_grams, small.hsn_code, small.tax_rate_bp, small.option1) == (
        250, "6205", 500, "S")
    assert set(variants) == {"LIN-S", "LIN-M"}  # the empty third row is ignored
    page = owner_client.get(response["Location"]).content.decode()
    assert "Linen Shirt" in page and "1299.50" in page and "LIN-M" in page
    assert_no_inline_code(page)


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_stored(owner_client, workspace):
    cases = [
        ({"row0": {"sku": "LIN S", "option1": "S", "price": "10"}}, "without spaces"),
        ({"row0": {"sku": "LIN-S", "option1": "S", "price": "10.123"}}, "2 decimal places"),
        ({"row0": {"sku": "LIN-S", "option1": "S", "price": "10", "hsn_code": "12"}},
         "an HSN code has 4, 6 or 8 digits"),
        ({"row0": {"sku": "LIN-S", "price": "10"}}, "give a value for every option"),
        ({"row0": {"sku": "LIN-S", "option1": "S", "price": "10"},
          "row1": {"sku": "LIN-S", "option1": "M", "price": "10"}}, "this SKU appears twice"),
        ({}, "Add at least one variant"),
    ]
    for rows, message in cases:
        response = owner_client.post("/products/new", _new_product(**rows))
        html = response.content.decode()
        assert response.status_code == 400, message
        assert message in html, message
        assert 'value="Linen Shirt"' in html  # what was typed is kept
    assert _products(workspace.workspace.id) == []


def test_a_taken_sku_is_named_on_its_row(owner_client, stock):
    ws, *_ = stock
    response = owner_client.post("/products/new", _new_product(
        row0={"sku": "NEW-1", "option1": "S", "price": "10"},
        row1={"sku": "KURTA-M", "option1": "M", "price": "10"}))
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="variant-1".*SKU &#x27;KURTA-M&#x27; is already used', html, re.S)
    assert len(_products(ws)) == 1


def test_edit_saves_product_and_variant_fields(owner_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    html = owner_client.get(f"/products/{product_id}/").content.decode()
    data = _edit_form(html)
    assert data["version"] == "1" and data["v-0-price"] == "899.00"
    data.update({"title": "Cotton Kurta, hand-block", "v-0-price": "949", "v-1-tax_rate": "1200"})
    response = owner_client.post(f"/products/{product_id}/", data)
    assert response.status_code == 302
    with workspace_scope(ws):
        product = Product.objects.get(id=product_id)
        saved = {v.sku: v for v in Variant.objects.all()}
    assert product.title == "Cotton Kurta, hand-block" and product.version == 2
    assert saved["KURTA-M"].price_minor == 94900 and saved["KURTA-L"].tax_rate_bp == 1200


def test_a_stale_form_is_refused_with_a_clear_message(owner_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    opened = _edit_form(owner_client.get(f"/products/{product_id}/").content.decode())
    other_tab = {**opened, "title": "Saved first"}
    assert owner_client.post(f"/products/{product_id}/", other_tab).status_code == 302
    stale = {**opened, "title": "Saved second", "v-0-price": "1"}
    response = owner_client.post(f"/products/{product_id}/", stale)
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed since you opened it" in html and "Nothing was saved" in html
    assert 'value="Saved second"' in html  # the member's edits are still on screen
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).title == "Saved first"
        assert Variant.objects.get(sku="KURTA-M").price_minor == 89900


def test_edit_errors_go_next_to_the_variant_field(owner_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    data = _edit_form(owner_client.get(f"/products/{product_id}/").content.decode())
    data.update({"v-1-hsn_code": "99", "title": "Changed"})
    response = owner_client.post(f"/products/{product_id}/", data)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="variant-1".*an HSN code has 4, 6 or 8 digits', html, re.S)
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).title == "Cotton Kurta"


def test_archive_and_restore(owner_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    owner_client.post(f"/products/{product_id}/archive", {"action": "archive"})
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).status == "archived"
    html = owner_client.get("/products/?status=archived").content.decode()
    assert "Cotton Kurta" in html
    assert "Cotton Kurta" not in owner_client.get("/products/?status=active").content.decode()
    owner_client.post(f"/products/{product_id}/archive", {"action": "restore"})
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).status == "draft"


def test_search_by_title_or_sku(owner_client, stock):
    ws, *_ = stock
    product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Silk Saree", variants=[VariantInput(sku="SAREE-RED", price_minor=500000)]))
    by_sku = owner_client.get("/products/?q=saree-r").content.decode()
    assert "Silk Saree" in by_sku and "Cotton Kurta" not in by_sku
    by_title = owner_client.get("/products/?q=kurta").content.decode()
    assert "Cotton Kurta" in by_title and "Silk Saree" not in by_title
    assert "No product matches" in owner_client.get("/products/?q=zzz").content.decode()


def test_list_pages_with_a_keyset_cursor(owner_client, workspace, monkeypatch):
    from storesync.web.views import products as view

    monkeypatch.setattr(view, "PAGE_SIZE", 2)
    for i in range(3):
        product_create(workspace_id=workspace.workspace.id, actor=ACTOR, data=ProductInput(
            title=f"Product {i}", variants=[VariantInput(sku=f"P-{i}", price_minor=100)]))
    first = owner_client.get("/products/").content.decode()
    assert "Product 2" in first and "Product 0" not in first
    cursor = re.search(r'cursor=([0-9a-f-]+)"', first).group(1)
    second = owner_client.get(f"/products/?cursor={cursor}").content.decode()
    assert "Product 0" in second and "Product 2" not in second
    assert owner_client.get("/products/?cursor=bad").status_code == 404


def test_viewer_reads_but_cannot_create_edit_or_archive(member_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    viewer = member_client("viewer", totp=False)
    page = viewer.get(f"/products/{product_id}/")
    assert page.status_code == 200 and "<form" not in page.content.decode().split("<main")[1]
    assert viewer.get("/products/new").status_code == 403
    assert viewer.post("/products/new", _new_product(
        row0={"sku": "X-1", "option1": "S", "price": "1"})).status_code == 403
    assert viewer.post(f"/products/{product_id}/", {"title": "Hacked", "version": "1"}
                       ).status_code == 403
    assert viewer.post(f"/products/{product_id}/archive").status_code == 403
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).title == "Cotton Kurta"
        assert Product.objects.count() == 1


def test_other_workspaces_products_are_not_found(other_workspace, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    intruder = Client()
    intruder.force_login(other_workspace.owner)
    assert intruder.get(f"/products/{product_id}/").status_code == 404
    assert intruder.post(f"/products/{product_id}/archive").status_code == 404
    assert "Cotton Kurta" not in intruder.get("/products/?q=kurta").content.decode()
    with workspace_scope(ws):
        assert Product.objects.get(id=product_id).status == "draft"


def test_list_and_page_show_stock(owner_client, stock, placed_order):
    _ws, variants, _main, _store = stock
    product_id = variants["KURTA-M"].product_id
    listing = owner_client.get("/products/").content.decode()
    assert re.search(r'data-label="Available" class="num">8<', listing)  # 10 on hand, 2 held
    page = owner_client.get(f"/products/{product_id}/").content.decode()
    stock_table = page.split('id="h-stock"')[1].split("</section>")[0]
    assert "KURTA-M" in stock_table and "Pune warehouse" in stock_table
    assert "<strong>8</strong>" in stock_table


def _add_variant(version: int, **fields: str) -> dict[str, str]:
    row = {"sku": "KURTA-XL", "option1": "XL", "price": "949", "compare_at": "", "cost": "",
           "weight_grams": "", "hsn_code": "6206", "tax_rate": "500", "barcode": "", **fields}
    return {"new-version": str(version), **{f"new-{k}": v for k, v in row.items()}}


def test_add_a_variant_to_a_product(owner_client, stock):
    ws, variants, *_ = stock
    product_id = variants["KURTA-M"].product_id
    page = owner_client.get(f"/products/{product_id}/").content.decode()
    assert 'id="add-variant"' in page and ">Size</label>" in page  # labelled by option name
    response = owner_client.post(f"/products/{product_id}/variants", _add_variant(1))
    assert response.status_code == 302
    added = _variant_by_sku(ws, "KURTA-XL")
    assert (added.option1, added.price_minor, added.position, added.title) == (
        "XL", 94900, 3, "XL")
    # Now version 2: a form opened at version 1 is refused, and so is a duplicate.
    stale = owner_client.post(f"/products/{product_id}/variants",
                              _add_variant(1, sku="KURTA-XXL", option1="XXL"))
    assert stale.status_code == 409 and "changed since you opened it" in stale.content.decode()
    for fields, message in [({"sku": "KURTA-M", "option1": "XS"}, "is already used"),
                            ({"sku": "KURTA-S", "option1": "M"}, "same option values"),
                            ({"sku": "KURTA-S", "option1": ""}, "This field is required")]:
        bad = owner_client.post(f"/products/{product_id}/variants", _add_variant(2, **fields))
        assert bad.status_code in (400, 409) and message in bad.content.decode(), fields
    with workspace_scope(ws):
        assert Variant.objects.filter(product_id=product_id).count() == 3


def test_viewer_cannot_add_a_variant(member_client, stock):
    ws, variants, *_ = stock
    viewer = member_client("viewer", totp=False)
    product_id = variants["KURTA-M"].product_id
    assert viewer.post(f"/products/{product_id}/variants", _add_variant(1)).status_code == 403
    with workspace_scope(ws):
        assert Variant.objects.filter(product_id=product_id).count() == 2


def _variant_by_sku(ws, sku: str) -> Variant:
    with workspace_scope(ws):
        return Variant.objects.get(sku=sku)
