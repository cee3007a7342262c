"""Reading and writing CSV: encodings, delimiters, row numbers, malformed rows, formulas."""

from __future__ import annotations

import csv
import io

import pytest

from storesync.core.csvio import (
    Columns,
    CsvRejected,
    CsvSource,
    Problem,
    ProblemLog,
    Record,
    RowCheck,
    csv_chunks,
    defuse,
)

COLUMNS = Columns(required=("sku", "price"), optional=("note",), ignored=("available",))


def _source(tmp_path, data: bytes) -> CsvSource:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return CsvSource(path, COLUMNS)


def test_rows_are_numbered_like_a_spreadsheet_across_quoted_newlines(tmp_path):
    data = b'SKU,Price,Note\r\nA-1,10,"two\r\nlines"\r\n\r\nB-2,11,\r\n'
    items = list(_source(tmp_path, data))
    assert items == [Record(2, {"sku": "A-1", "price": "10", "note": "two\r\nlines"}),
                     Record(4, {"sku": "B-2", "price": "11", "note": ""})]


def test_ignored_columns_are_accepted_and_dropped(tmp_path):
    items = list(_source(tmp_path, b"sku;price;available\nA;1;5\n"))
    assert items == [Record(2, {"sku": "A", "price": "1"})]


def test_a_bom_and_tabs(tmp_path):
    source = _source(tmp_path, "\ufeffsku\tprice\nÄ-1\t2\n".encode())
    assert source.encoding == "utf-8-sig" and source.delimiter == "\t"
    assert list(source) == [Record(2, {"sku": "Ä-1", "price": "2"})]


def test_bytes_that_stop_being_utf8_end_the_reading_with_a_problem(tmp_path):
    data = b"sku,price\n" + b"A,1\n" * 20000 + b"caf\xe9,2\n"  # past the sniffed head
    items = list(_source(tmp_path, data))
    assert isinstance(items[-1], Problem) and items[-1].fatal
    assert "UTF-8" in items[-1].message


def test_header_problems_name_every_column(tmp_path):
    with pytest.raises(CsvRejected) as refused:
        _source(tmp_path, b"sku,sku,colour\n")
    found = {(p.column, p.message.split(";")[0]) for p in refused.value.problems}
    assert found == {("sku", "this column appears twice"), ("colour", "unknown column"),
                     ("price", "required column is missing")}


def test_cell_checks_explain_the_problem(tmp_path):
    check = RowCheck(Record(7, {"price": "1,499.00", "qty": "1_000", "neg": "-2"}))
    assert check.money("price", "INR") is None
    assert check.integer("qty") is None and check.integer("neg") == -2
    assert [(p.row, p.column) for p in check.problems] == [(7, "price"), (7, "qty"), (7, "neg")]
    assert "use a point for decimals" in check.problems[0].message


def test_problem_log_keeps_the_first_and_spools_all(tmp_path):
    log = ProblemLog(keep=2)
    for row in range(2, 7):
        log.add(Problem(row, "sku", "bad", "=cmd()"))
    report = log.save(tmp_path / "report.csv")
    log.close()
    assert log.count == 5 and len(log.first) == 2
    rows = list(csv.reader(report.open()))
    assert len(rows) == 6 and rows[1] == ["2", "sku", "'=cmd()", "bad"]


def test_csv_chunks_defuse_formulas_but_not_numbers():
    text = "".join(csv_chunks(["a", "b"], [["=SUM(A1)", -5], ["@x", "-5"]], rows_per_chunk=1))
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["'=SUM(A1)", "-5"],
                                                    ["'@x", "-5"]]
    assert defuse("+91 98765") == "'+91 98765" and defuse("plain") == "plain"
