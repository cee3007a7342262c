"""``storesync import`` and ``storesync export``: reports, exit codes, stdout and files."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from storesync.catalog.models import Variant
from storesync.core.tenancy import workspace_scope

PRODUCTS = ("handle,title,option1_name,option1_value,sku,price,hsn_code,tax_rate\n"
            "kurta,Cotton Kurta,Size,M,KURTA-M,899.00,6206,5\n"
            "kurta,,,L,KURTA-L,899.00,6206,5\n")


def _file(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _skus(workspace):
    with workspace_scope(workspace.workspace.id):
        return set(Variant.objects.values_list("sku", flat=True))


def test_import_products_then_export_to_stdout(workspace, tmp_path, capsys):
    call_command("import", "products", str(_file(tmp_path, PRODUCTS)), "--workspace", "acme")
    captured = capsys.readouterr()
    assert "imported 2 of 2 rows" in captured.out
    assert "validating" in captured.err  # the progress bar goes to stderr
    assert _skus(workspace) == {"KURTA-M", "KURTA-L"}
    call_command("export", "products", "--workspace", "acme")
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["sku"] for r in rows} == {"KURTA-M", "KURTA-L"}


def test_a_rejected_file_exits_1_with_a_report_file(workspace, tmp_path, capsys):
    text = PRODUCTS + "cap,Cap,,,CAP-1,12.345,,\n" + "hat,Hat,,,KURTA-M,1,,\n"
    path = _file(tmp_path, text)
    with pytest.raises(CommandError, match="2 of 4 rows have problems; nothing was saved"):
        call_command("import", "products", str(path), "--workspace", "acme", "--no-progress")
    err = capsys.readouterr().err
    assert "row 4, column price" in err and "row 5, column sku" in err
    report = tmp_path / "in.csv.problems.csv"
    assert str(report) in err
    assert [r["row"] for r in csv.DictReader(report.open())] == ["4", "5"]
    assert _skus(workspace) == set()
    call_command("import", "products", str(path), "--workspace", "acme", "--valid-only",
                 "--no-progress")
    assert "imported 2 of 4 rows" in capsys.readouterr().out
    assert _skus(workspace) == {"KURTA-M", "KURTA-L"}


def test_dry_run_and_unreadable_files(workspace, tmp_path, capsys):
    call_command("import", "products", str(_file(tmp_path, PRODUCTS)), "--workspace", "acme",
                 "--dry-run", "--no-progress")
    assert "dry run: 2 of 2 rows are valid" in capsys.readouterr().out
    assert _skus(workspace) == set()
    latin = tmp_path / "latin.csv"
    latin.write_bytes(PRODUCTS.replace("Cotton", "Côtton").encode("cp1252"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import", "products", str(latin), "--workspace", "acme")
    with pytest.raises(CommandError, match="no such file"):
        call_command("import", "products", str(tmp_path / "missing.csv"), "--workspace", "acme")
    with pytest.raises(CommandError, match="no workspace"):
        call_command("import", "products", str(latin), "--workspace", "nope")


def test_inventory_import_and_export_to_a_file(stock, tmp_path, capsys):
    call_command("import", "inventory", str(_file(tmp_path, "sku,location,on_hand\n"
                                                  "KURTA-M,Pune warehouse,7\n")),
                 "--workspace", "acme", "--no-progress")
    target = tmp_path / "out" / "levels.csv"
    target.parent.mkdir()
    call_command("export", "inventory", "--workspace", "acme", "--output", str(target))
    rows = list(csv.DictReader(target.open()))
    assert [(r["sku"], r["location"], r["on_hand"]) for r in rows] == [
        ("KURTA-M", "Pune warehouse", "7")]
    assert not list(target.parent.glob(".*partial"))


def test_orders_export_help_says_there_is_no_personal_data(workspace, capsys):
    with pytest.raises(SystemExit):
        call_command("export", "--help")
    assert "no personal data" in capsys.readouterr().out.replace("\n", " ")
    with pytest.raises(CommandError, match="not a date"):
        call_command("export", "orders", "--workspace", "acme", "--from", "yesterday")


@pytest.mark.slow
def test_console_script_exit_codes_and_streams(tmp_path):
    """The real `storesync` process: refused file -> exit 1 and a report; CSV on stdout."""
    from storesync.security.keyring import generate_master_key
    from tests.cli.test_commands import _cli

    key = generate_master_key()
    assert _cli(tmp_path, "migrate", "-v", "0", key=key).returncode == 0
    assert _cli(tmp_path, "workspace", "create", "shop", "--name", "Shop", "--owner",
                "o@shop.example", key=key).returncode == 0
    bad = _file(tmp_path, PRODUCTS + "cap,Cap,,,CAP-1,oops,,\n", "bad.csv")
    refused = _cli(tmp_path, "import", "products", str(bad), "--workspace", "shop", key=key)
    assert refused.returncode == 1
    assert "row 4, column price" in refused.stderr and "bad.csv.problems.csv" in refused.stderr
    good = _file(tmp_path, PRODUCTS, "good.csv")
    done = _cli(tmp_path, "import", "products", str(good), "--workspace", "shop", key=key)
    assert done.returncode == 0 and "imported 2 of 2 rows" in done.stdout
    assert "rows" in done.stderr  # the progress bar
    exported = _cli(tmp_path, "export", "products", "--workspace", "shop", key=key)
    assert exported.returncode == 0
    assert {r["sku"] for r in csv.DictReader(io.StringIO(exported.stdout))} == {
        "KURTA-M", "KURTA-L"}
