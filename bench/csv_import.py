"""CSV import and export at scale: N variants (N/4 products with four sizes each).

Generates a seeded product CSV and a stock CSV (every variant at one location), then runs
``storesync import`` and ``storesync export`` as child processes, exactly as a user would,
and measures for each: wall time, rows per second, and the child's peak resident memory
(``ru_maxrss`` from ``os.wait4`` on that child alone, so it includes Python, Django and the
driver). A bare ``storesync workspace list`` is measured too, as the baseline a command costs
before it does any work. Run by ``bench/run.py --only csv`` in a subprocess per database;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storesync.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from faker import Faker  # noqa: E402

from storesync.core.services import workspace_create  # noqa: E402
from storesync.inventory.services import location_create  # noqa: E402
from storesync.security.audit import Actor  # noqa: E402

SIZES = ("S", "M", "L", "XL")
HSN = (("6109", 500), ("6205", 500), ("6403", 1800), ("4202", 1800), ("7117", 300))


def write_products(path: Path, variants: int, seed: int = 42) -> int:
    """A Shopify-like product CSV, written row by row (the generator holds no rows)."""
    fake = Faker("en_IN")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["handle", "title", "vendor", "product_type", "tags", "status",
                         "option1_name", "option1_value", "sku", "barcode", "price",
                         "compare_at_price", "cost", "weight_grams", "hsn_code", "tax_rate"])
        for number in range(variants // len(SIZES)):
            kind = rng.choice(["Kurta", "Tee", "Shirt", "Bag", "Sandal"])
            title = f"{fake.color_name()} {fake.word().title()} {kind}"
            hsn, rate = rng.choice(HSN)
            price = rng.randrange(19900, 499900, 100)
            for index, size in enumerate(SIZES):
                first = index == 0
                writer.writerow([
                    f"p-{number:06d}", title if first else "",
                    fake.company() if first else "", "Apparel" if first else "",
                    "bench, generated" if first else "", "active" if first else "",
                    "Size" if first else "", size, f"SKU-{number:06d}-{size}",
                    f"{8900000000000 + number * 4 + index}", f"{price / 100:.2f}",
                    f"{price * 1.2 / 100:.2f}" if rng.random() < 0.3 else "",
                    f"{price * 0.4 / 100:.2f}", rng.randrange(100, 2000), hsn,
                    f"{rate / 100:g}"])
                rows += 1
    return rows


def write_stock(path: Path, variants: int, location: str, seed: int = 43) -> int:
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["sku", "location", "on_hand", "safety_buffer", "low_stock_threshold"])
        for number in range(variants // len(SIZES)):
            for size in SIZES:
                writer.writerow([f"SKU-{number:06d}-{size}", location, rng.randrange(0, 500),
                                 rng.choice(["", "2"]), rng.choice(["", "10"])])
                rows += 1
    return rows


# Linux carries a process's peak RSS across fork and exec (``signal->maxrss``), so a child
# forked straight from this Django-sized process would report at least our size. A tiny
# launcher process spawns the command instead and reports ``wait4``'s figures for it alone.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
err = open(os.environ["BENCH_ERR"], "w")
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=err)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "maxrss_kib": usage.ru_maxrss,
                  "exit": os.waitstatus_to_exitcode(status)}))
"""


def run_cli(*args: str) -> dict[str, float]:
    """Run ``storesync ARGS`` as a child; wall seconds and that child's peak RSS in MiB."""
    with tempfile.NamedTemporaryFile(suffix=".err") as err:
        done = subprocess.run(
            [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "storesync.cli", *args],
            env={**os.environ, "BENCH_ERR": err.name}, capture_output=True, text=True,
            check=True, timeout=3600)
        figures = json.loads(done.stdout)
        if figures["exit"] != 0:
            message = Path(err.name).read_text()[-3000:]
            raise SystemExit(f"storesync {' '.join(args)} failed ({figures['exit']}):\n{message}")
    return {"seconds": figures["seconds"], "peak_rss_mib": figures["maxrss_kib"] / 1024}


def measure(label: str, rows: int, *args: str) -> dict[str, float]:
    result = run_cli(*args)
    result["rows"] = rows
    result["rows_per_s"] = rows / result["seconds"]
    print(f"{label}: {rows:,} rows in {result['seconds']:.1f} s, "
          f"{result['rows_per_s']:,.0f} rows/s, peak {result['peak_rss_mib']:.0f} MiB",
          file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    ws = workspace_create(slug="bench", name="Bench", owner_email="bench@example.com").workspace
    location_create(workspace_id=ws.id, name="Main warehouse", actor=Actor.system("bench"))
    connection.close()  # the children open their own connections
    with tempfile.TemporaryDirectory(prefix="storesync-csv-") as tmp:
        folder = Path(tmp)
        products, stock = folder / "products.csv", folder / "stock.csv"
        variants = write_products(products, args.variants)
        write_stock(stock, variants, "Main warehouse")
        common = ("--workspace", "bench")
        results = {
            "baseline": run_cli("workspace", "list"),
            "import_products": measure("import products", variants, "import", "products",
                                       str(products), *common, "--no-progress"),
            "import_inventory": measure("import inventory", variants, "import", "inventory",
                                        str(stock), *common, "--no-progress"),
            "export_products": measure("export products", variants, "export", "products",
                                       *common, "--output", str(folder / "out-products.csv")),
            "export_inventory": measure("export inventory", variants, "export", "inventory",
                                        *common, "--output", str(folder / "out-stock.csv")),
        }
        file_mib = products.stat().st_size / 2**20
        exported = sum(1 for _ in (folder / "out-products.csv").open()) - 1
    if exported != variants:
        raise SystemExit(f"export wrote {exported} rows, expected {variants}")
    print(json.dumps({"database": connection.vendor, "variants": variants,
                      "products_csv_mib": file_mib, "results": results}))


if __name__ == "__main__":
    main()
