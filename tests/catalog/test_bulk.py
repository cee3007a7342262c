"""Product CSV import and export: every problem reported by row and column, all or nothing."""

from __future__ import annotations

import csv
import io

import pytest

from storesync.catalog.bulk import ProductImporter, products_bulk_upsert, products_csv
from storesync.catalog.models import Product, Variant
from storesync.catalog.services import ProductInput, VariantInput
from storesync.core.csvio import CsvRejected, CsvSource
from storesync.core.errors import Conflict
from storesync.core.imports import run_import
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor

ACTOR = Actor.system("test")
HEADER = ("handle,title,vendor,tags,status,option1_name,option1_value,sku,price,"
          "compare_at_price,hsn_code,tax_rate\n")
GOOD = (
    HEADER
    + "kurta,Cotton Kurta,Weavers,\"cotton, summer\",active,Size,M,KURTA-M,899.00,999,6206,5\n"
    + "kurta,,,,,,L,KURTA-L,899.50,,6206,5\n"
    + "saree,Silk Saree,Weavers,,draft,,,SAREE-1,2499,,5007,5\n"
)


def _write(tmp_path, text, name="products.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _import(ws, path, **options):
    importer = ProductImporter(workspace_id=ws, currency="INR", actor=ACTOR)
    return run_import(importer, CsvSource(path, importer.columns), **options)


def _stored(ws):
    with workspace_scope(ws):
        return {v.sku: v for v in Variant.objects.select_related("product")}


def test_import_creates_products_with_variants_and_exact_money(workspace, tmp_path):
    ws = workspace.workspace.id
    outcome = _import(ws, _write(tmp_path, GOOD))
    assert outcome.ok and outcome.rows == 3 and outcome.problems.count == 0
    assert outcome.written["products_created"] == 2
    variants = _stored(ws)
    assert variants["KURTA-L"].price_minor == 89950
    assert variants["KURTA-M"].compare_at_minor == 99900
    assert variants["KURTA-M"].product == variants["KURTA-L"].product
    kurta = variants["KURTA-M"].product
    assert kurta.options == ["Size"] and kurta.tags == ["cotton", "summer"]
    assert kurta.status == "active" and variants["KURTA-L"].option1 == "L"
    assert variants["SAREE-1"].tax_rate_bp == 500


def test_reimport_updates_instead_of_duplicating(workspace, tmp_path):
    ws = workspace.workspace.id
    _import(ws, _write(tmp_path, GOOD))
    changed = GOOD.replace("KURTA-L,899.50", "KURTA-L,949.00").replace("Cotton", "Linen")
    outcome = _import(ws, _write(tmp_path, changed, "again.csv"))
    assert outcome.ok, [str(p) for p in outcome.problems.first]
    assert outcome.written["variants_updated"] == 3 and outcome.written["products_created"] == 0
    assert _stored(ws)["KURTA-L"].price_minor == 94900
    assert _stored(ws)["KURTA-L"].product.title == "Linen Kurta"
    assert _stored(ws)["KURTA-L"].product.version == 2
    with workspace_scope(ws):
        assert Product.objects.count() == 2


def test_every_problem_is_named_by_row_and_column_and_nothing_is_stored(workspace, tmp_path):
    ws = workspace.workspace.id
    bad = (HEADER
           + "kurta,Cotton Kurta,W,,active,Size,M,KURTA-M,899.00,,6206,5\n"
           + "kurta,,,,,,L,KURTA-L,8.999,,6206,5\n"             # 3 decimals
           + "saree,Silk Saree,W,,sold,,,SAREE-1,abc,,5007,7\n"   # status, price, tax rate
           + "scarf,Scarf,W,,active,,,KURTA-M,10,,12,5\n"          # duplicate SKU, bad HSN
           + "ok,Fine Product,W,,active,,,OK-1,10,,,0\n")
    outcome = _import(ws, _write(tmp_path, bad))
    assert outcome.rejected and outcome.rows == 5
    found = {(p.row, p.column) for p in outcome.problems.first}
    assert {(3, "price"), (4, "status"), (4, "price"), (4, "tax_rate"), (5, "sku")} <= found
    message = {(p.row, p.column): p.message for p in outcome.problems.first}
    assert "row 2" in message[(5, "sku")]
    assert "2 decimal places" in message[(3, "price")]
    assert _stored(ws) == {}  # one bad row among good ones: nothing stored


def test_valid_only_saves_the_good_products_and_reports_the_rest(workspace, tmp_path):
    ws = workspace.workspace.id
    text = GOOD + "broken,Broken,,,active,,,BROKEN-1,-5,,,\n"
    outcome = _import(ws, _write(tmp_path, text), valid_only=True)
    assert outcome.ok and outcome.invalid_rows == 1
    assert [(p.row, p.column) for p in outcome.problems.first] == [(5, "price")]
    assert set(_stored(ws)) == {"KURTA-M", "KURTA-L", "SAREE-1"}


def test_dry_run_checks_without_saving(workspace, tmp_path):
    ws = workspace.workspace.id
    outcome = _import(ws, _write(tmp_path, GOOD), dry_run=True)
    assert outcome.ok and outcome.rows == 3 and _stored(ws) == {}


def test_sku_of_another_product_in_the_database_is_refused(workspace, tmp_path):
    ws = workspace.workspace.id
    products_bulk_upsert(workspace_id=ws, actor=ACTOR, products=[ProductInput(
        title="Old", handle="old", variants=[VariantInput(sku="SAREE-1", price_minor=100)])])
    outcome = _import(ws, _write(tmp_path, GOOD))
    assert outcome.rejected
    assert [(p.row, p.column) for p in outcome.problems.first] == [(4, "sku")]
    assert "'old'" in outcome.problems.first[0].message
    with pytest.raises(Conflict):
        products_bulk_upsert(workspace_id=ws, actor=ACTOR, products=[ProductInput(
            title="New", handle="new", variants=[VariantInput(sku="SAREE-1", price_minor=1)])])


def test_rows_of_a_product_must_be_together_and_agree(workspace, tmp_path):
    ws = workspace.workspace.id
    text = (HEADER
            + "kurta,Cotton Kurta,W,,active,Size,M,K-M,1,,,\n"
            + "kurta,Other Title,,,,,L,K-L,1,,,\n"
            + "saree,Saree,W,,active,,,S-1,1,,,\n"
            + "kurta,Cotton Kurta,,,,,XL,K-XL,1,,,\n")
    outcome = _import(ws, _write(tmp_path, text))
    found = {(p.row, p.column) for p in outcome.problems.first}
    assert (3, "title") in found and (5, "handle") in found


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files_and_a_bom_are_understood(workspace, tmp_path, delimiter):
    ws = workspace.workspace.id
    rows = list(csv.reader(io.StringIO(GOOD)))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path = _write(tmp_path, "\ufeff" + buffer.getvalue())
    outcome = _import(ws, path)
    assert outcome.ok and len(_stored(ws)) == 3


def test_shopify_header_names_are_accepted(workspace, tmp_path):
    ws = workspace.workspace.id
    text = ("Handle,Title,Body (HTML),Option1 Name,Option1 Value,Variant SKU,Variant Price,"
            "Cost per item\ntee,Tee,<p>Soft</p>,Size,S,TEE-S,199,80\n")
    outcome = _import(ws, _write(tmp_path, text))
    assert outcome.ok and _stored(ws)["TEE-S"].cost_minor == 8000
    assert _stored(ws)["TEE-S"].product.description == "<p>Soft</p>"


def test_unreadable_files_are_refused_with_a_reason(workspace, tmp_path):
    columns = ProductImporter(workspace_id=workspace.workspace.id, currency="INR",
                              actor=ACTOR).columns
    cases = {
        "latin1": (GOOD.replace("Cotton", "Côtton"), "cp1252", "not UTF-8"),
        "utf16": (GOOD, "utf-16", "UTF-16"),
        "pipes": (GOOD.replace(",", "|"), "utf-8", "no comma, semicolon or tab"),
        "empty": ("", "utf-8", "empty"),
    }
    for name, (text, encoding, reason) in cases.items():
        with pytest.raises(CsvRejected, match=reason):
            CsvSource(_write(tmp_path, text, f"{name}.csv", encoding), columns)
    with pytest.raises(CsvRejected) as refused:
        CsvSource(_write(tmp_path, "handle,titel,sku\nx,y,z\n", "header.csv"), columns)
    problems = {(p.row, p.column, p.message.split(";")[0]) for p in refused.value.problems}
    assert (1, "titel", "unknown column") in problems
    assert (1, "price", "required column is missing") in problems


def test_malformed_rows_are_reported_not_raised(workspace, tmp_path):
    ws = workspace.workspace.id
    wrong_count = GOOD + "extra,Extra,,,active,,,X-1,1,,,,,surplus\n"
    outcome = _import(ws, _write(tmp_path, wrong_count))
    assert outcome.rejected and outcome.problems.first[0].row == 5
    assert "14 fields" in outcome.problems.first[0].message
    unbalanced = GOOD + 'quote,"Unclosed title,,,active,,,Q-1,1,,,\n' + GOOD.split("\n", 1)[1]
    outcome = _import(ws, _write(tmp_path, unbalanced, "quote.csv"), valid_only=True)
    assert outcome.rejected  # even with valid_only: rows after it could not be read
    assert outcome.problems.first[-1].row == 5 and "quote" in outcome.problems.first[-1].message
    assert _stored(ws) == {}


def test_export_roundtrips_through_import(workspace, other_workspace, tmp_path):
    ws = workspace.workspace.id
    _import(ws, _write(tmp_path, GOOD))
    exported = "".join(products_csv(workspace_id=ws, currency="INR", batch_size=1))
    rows = list(csv.DictReader(io.StringIO(exported)))
    skus = [r["sku"] for r in rows]
    assert skus.index("KURTA-M") + 1 == skus.index("KURTA-L") and len(skus) == 3
    large = next(r for r in rows if r["sku"] == "KURTA-L")
    assert large["price"] == "899.50" and large["option1_name"] == "Size"
    other = other_workspace.workspace.id
    outcome = _import(other, _write(tmp_path, exported, "export.csv"))
    assert outcome.ok and set(_stored(other)) == {"KURTA-M", "KURTA-L", "SAREE-1"}
    again = "".join(products_csv(workspace_id=other, currency="INR"))
    assert sorted(again.splitlines()) == sorted(exported.splitlines())
