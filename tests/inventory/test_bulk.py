"""Stock CSV import and export: counts and corrections go through the ledger."""

from __future__ import annotations

import csv
import io

import pytest

from storesync.core.csvio import CsvSource
from storesync.core.imports import run_import
from storesync.core.tenancy import workspace_scope
from storesync.inventory.bulk import StockChange, StockImporter, levels_csv, stock_bulk_apply
from storesync.inventory.models import Level, Movement
from storesync.inventory.services import InsufficientStock, StockLine, stock_reserve
from storesync.security.audit import Actor

ACTOR = Actor.system("test")


def _import(ws, tmp_path, text, **options):
    path = tmp_path / "stock.csv"
    path.write_text(text, encoding="utf-8")
    importer = StockImporter(workspace_id=ws, actor=ACTOR, reference="test")
    return run_import(importer, CsvSource(path, importer.columns), **options)


def _levels(ws):
    with workspace_scope(ws):
        return {(lv.variant.sku, lv.location.name): lv
                for lv in Level.objects.select_related("variant", "location")}


def test_counts_set_on_hand_and_every_change_is_in_the_ledger(stock, tmp_path):
    ws, _variants, _main, _store = stock
    text = ("sku,location,on_hand,adjust,safety_buffer,low_stock_threshold\n"
            "KURTA-M,Pune warehouse,40,,2,5\n"
            "KURTA-L,pune warehouse,12,,,\n"          # location names ignore case
            "KURTA-M,Mumbai store,,7,,\n")
    outcome = _import(ws, tmp_path, text)
    assert outcome.ok, [str(p) for p in outcome.problems.first]
    levels = _levels(ws)
    assert levels[("KURTA-M", "Pune warehouse")].on_hand == 40
    assert levels[("KURTA-M", "Pune warehouse")].available == 38
    assert levels[("KURTA-M", "Pune warehouse")].low_stock_threshold == 5
    assert levels[("KURTA-M", "Mumbai store")].on_hand == 7
    again = _import(ws, tmp_path, "sku,location,on_hand\nKURTA-M,Pune warehouse,35\n")
    assert again.ok
    with workspace_scope(ws):
        moves = list(Movement.objects.filter(
            level=levels[("KURTA-M", "Pune warehouse")]).order_by("created_at", "id"))
    assert [(m.on_hand_delta, m.on_hand_after, m.reason) for m in moves] == [
        (40, 40, "csv import"), (-5, 35, "csv import")]


def test_bad_rows_are_reported_by_row_and_column_and_nothing_changes(stock, tmp_path):
    ws, _variants, _main, _store = stock
    text = ("sku,location,on_hand,adjust\n"
            "KURTA-M,Pune warehouse,10,\n"
            "NOPE,Pune warehouse,1,\n"
            "KURTA-L,Nowhere,1,\n"
            "KURTA-L,Pune warehouse,ten,\n"
            "KURTA-L,Mumbai store,1,2\n"
            "KURTA-M,Mumbai store,,-3\n"
            "KURTA-M,Pune warehouse,11,\n")
    outcome = _import(ws, tmp_path, text)
    assert outcome.rejected
    found = {(p.row, p.column) for p in outcome.problems.first}
    assert {(3, "sku"), (4, "location"), (5, "on_hand"), (6, "adjust"), (7, "adjust"),
            (8, "sku")} <= found
    assert _levels(ws) == {}


def test_reserved_stock_cannot_be_counted_away(stock, tmp_path):
    ws, variants, main, _store = stock
    _import(ws, tmp_path, "sku,location,on_hand\nKURTA-M,Pune warehouse,5\n")
    stock_reserve(workspace_id=ws, reference="order-1", actor=ACTOR, lines=[
        StockLine(variants["KURTA-M"].id, main.id, 4)])
    outcome = _import(ws, tmp_path, "sku,location,on_hand\nKURTA-M,Pune warehouse,3\n")
    assert outcome.rejected and outcome.problems.first[0].column == "on_hand"
    assert "4 reserved" in outcome.problems.first[0].message
    with pytest.raises(InsufficientStock):
        stock_bulk_apply(workspace_id=ws, actor=ACTOR, changes=[StockChange(
            variant_id=variants["KURTA-M"].id, location_id=main.id, delta=-2)])
    assert _levels(ws)[("KURTA-M", "Pune warehouse")].on_hand == 5


def test_export_has_the_import_columns_and_reimports(stock, tmp_path):
    ws, _variants, _main, _store = stock
    _import(ws, tmp_path, "sku,location,on_hand,safety_buffer\nKURTA-M,Pune warehouse,9,1\n"
                          "KURTA-L,Mumbai store,4,\n")
    text = "".join(levels_csv(workspace_id=ws, batch_size=1))
    rows = {r["sku"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["KURTA-M"]["available"] == "8" and rows["KURTA-M"]["reserved"] == "0"
    again = _import(ws, tmp_path, text)
    assert again.ok and again.written["movements"] == 0  # nothing changed
