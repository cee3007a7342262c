"""Run the benchmarks and write their figures into docs/benchmarks.md.

    .venv/bin/python bench/run.py [--customers N] [--databases sqlite,postgres] [--quick]
                                  [--only encryption,collections,csv] [--variants N]

Each database runs in its own subprocess with a fresh database, data directory and master
key. Sections of docs/benchmarks.md are replaced between their markers, so benchmarks added
later keep their own sections.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PG_ADMIN = os.environ.get("STORESYNC_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
HEADER = """# Benchmarks

Run them with `make bench` (or `.venv/bin/python bench/run.py --quick` for a short run). The
machine is shared and has 2 cores, so compare ratios rather than absolute times. Every figure
below was measured by the command that wrote it.
"""


def _pg_version() -> str:
    try:
        out = subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-tAc", "SHOW server_version"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _fresh_pg(name: str) -> str | None:
    if not _pg_version():
        return None
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", sql], check=True,
                       capture_output=True, timeout=60)
    return f"{PG_ADMIN}/{name}"


def run_one(script: str, database: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="storesync-bench-") as tmp:
        # STORESYNC_BENCH_DB: another name, so that two benchmark runs do not collide.
        url = (f"sqlite:///{tmp}/bench.db" if database == "sqlite"
               else _fresh_pg(os.environ.get("STORESYNC_BENCH_DB", "storesync_bench")))
        if url is None:
            return {"database": database, "skipped": "PostgreSQL is not reachable"}
        env = {**os.environ, "STORESYNC_DATA_DIR": tmp, "STORESYNC_DATABASE_URL": url,
               "STORESYNC_MASTER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
               "STORESYNC_LOG_LEVEL": "WARNING"}
        env.pop("STORESYNC_REDIS_URL", None)
        done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *extra], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{script} on {database} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    return (f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"PostgreSQL {_pg_version() or 'n/a'}")


def encryption_section(results: list[dict]) -> str:
    lines = [
        "## Field encryption cost",
        "",
        "Create and read customers, each with one address: 11 personal fields encrypted with "
        "AES-256-GCM and 2 blind indexes (HMAC-SHA256), against plain-text twin tables with "
        "the same columns and indexes, through the same validation and bulk-insert path "
        "(`bench/encryption.py`). *Read, decrypt* decrypts every field; *read, audited* also "
        "appends one `personal_data.read` audit event per customer, as every real read does. "
        "Median of the repetitions. Goal: encrypted at most 1.3x plain.",
        "",
        "| database | customers | create plain | create encrypted | ratio | read plain | "
        "read, decrypt | ratio | read, audited | ratio | lookup p50 plain / encrypted | "
        "peak MiB per 5,000-row batch plain / encrypted |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} |" + " |" * 10)
            continue
        s, n = r["seconds"], r["customers"]

        def rate(key: str, s: dict = s, n: int = n) -> str:
            return f"{n / s[key]:,.0f}/s"

        lines.append(
            f"| {r['database']} | {n:,} | {rate('create_plain')} | {rate('create_encrypted')} "
            f"| **{s['create_encrypted'] / s['create_plain']:.2f}x** | {rate('read_plain')} | "
            f"{rate('read_decrypt')} | **{s['read_decrypt'] / s['read_plain']:.2f}x** | "
            f"{rate('read_audited')} | {s['read_audited'] / s['read_plain']:.2f}x | "
            f"{r['lookup_p50_ms']['plain']:.2f} / {r['lookup_p50_ms']['encrypted']:.2f} ms | "
            f"{r['peak_mib_per_batch']['plain']:.0f} / {r['peak_mib_per_batch']['encrypted']:.0f}"
            " |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)


RESULTS = ROOT / "bench" / "results"


def remember(name: str, result: dict) -> list[dict]:
    """Keep each database's latest result, so one database can be re-run on its own."""
    RESULTS.mkdir(exist_ok=True)
    database = result["database"]
    (RESULTS / f"{name}-{database}.json").write_text(json.dumps(result, indent=1) + "\n")
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"{name}-*.json"))]


def write_section(name: str, body: str) -> None:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = DOC.read_text() if DOC.exists() else HEADER
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else \
        text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="10,000 customers, 1 repetition")
    parser.add_argument("--skus", type=int, default=10_000, help="channel fan-out SKUs")
    parser.add_argument("--only", default="encryption,collections,csv,channels",
                        help="which benchmarks to run (comma-separated)")
    args = parser.parse_args()
    customers, repeat = (10_000, 1) if args.quick else (args.customers, args.repeat)
    only = set(args.only.split(","))
    if "encryption" in only:
        run_encryption(args.databases.split(","), customers, repeat)
    if "collections" in only:
        run_collections(args.databases.split(","), 5_000 if args.quick else 20_000)
    if "csv" in only:
        run_csv(args.databases.split(","), 10_000 if args.quick else args.variants)
    if "channels" in only:
        from channel_report import run_channels

        run_channels(args.databases.split(","), 2_000 if args.quick else args.skus)
    print(f"wrote {DOC.relative_to(ROOT)}")


def run_encryption(databases: list[str], customers: int, repeat: int) -> None:
    results: list[dict] = []
    for database in databases:
        print(f"encryption benchmark on {database}: {customers:,} customers x {repeat}",
              flush=True)
        result = run_one("encryption.py", database,
                         ["--customers", str(customers), "--repeat", str(repeat)])
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("encryption", result)
    write_section("encryption", encryption_section(results))


def run_collections(databases: list[str], products: int) -> None:
    results: list[dict] = []
    for database in databases:
        print(f"smart-collection benchmark on {database}: {products:,} products", flush=True)
        result = run_one("smart_collections.py", database, ["--products", str(products)])
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("collections", result)
    write_section("collections", collections_section(results))


def collections_section(results: list[dict]) -> str:
    lines = [
        "## Smart-collection membership",
        "",
        "A smart collection with three rules (tag equals, vendor equals, variant price less "
        "than; all must match) over products with two variants each, evaluated by the database "
        "from the rules (`bench/smart_collections.py`): the member count, the first page of "
        "`GET /products?collection=` (50, newest first, with variants and images), and the "
        "first page in the collection's price order. Median of the repetitions, after ANALYZE.",
        "",
        "| database | products | members | count | first page, newest | first page, by price |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ms = r["ms"]
        lines.append(f"| {r['database']} | {r['products']:,} | {r['members']:,} | "
                     f"{ms['count']:.1f} ms | {ms['page_newest']:.1f} ms | "
                     f"{ms['page_price_asc']:.1f} ms |")
    measured = results[-1]["measured"] if results else ""
    return "\n".join([*lines, "", f"Measured {measured}.", ""])


def csv_section(results: list[dict]) -> str:
    lines = [
        "## CSV import and export",
        "",
        "A generated product CSV (Faker, seeded: N variants = N/4 products in four sizes, "
        "Shopify-like columns) and a stock CSV (every variant at one location) imported with "
        "`storesync import products|inventory`, then exported with `storesync export "
        "products|inventory --output FILE` (`bench/csv_import.py`). Each command runs as its "
        "own process, as a user runs it; *rows/s* is over its whole wall time (Python and "
        "Django start-up included; *baseline* is a bare `storesync workspace list`). *Peak "
        "RSS* is the command's peak resident memory (`ru_maxrss` from `os.wait4` on that "
        "process alone, spawned by a small launcher so it does not inherit a larger parent's "
        "peak). Import validates every row, then writes in 1,000-row transactions; stock "
        "changes go through the movement ledger. Goal: import peak memory under 300 MB. Other "
        "work shared the 2 cores while measuring: the start-up baseline shows how busy they "
        "were, so compare peak memory (stable) more than rates (noisy).",
        "",
        "| database | variants | baseline start-up | import products | import stock | "
        "export products | export stock |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} |" + " |" * 5)
            continue
        f = r["results"]

        def cell(key: str, f: dict = f) -> str:
            return (f"{f[key]['rows_per_s']:,.0f} rows/s ({f[key]['seconds']:.0f} s), "
                    f"peak {f[key]['peak_rss_mib']:.0f} MiB")

        lines.append(
            f"| {r['database']} | {r['variants']:,} ({r['products_csv_mib']:.1f} MiB CSV) | "
            f"{f['baseline']['seconds']:.1f} s, {f['baseline']['peak_rss_mib']:.0f} MiB | "
            f"{cell('import_products')} | {cell('import_inventory')} | "
            f"{cell('export_products')} | {cell('export_inventory')} |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)


def run_csv(databases: list[str], variants: int) -> None:
    results: list[dict] = []
    for database in databases:
        print(f"CSV benchmark on {database}: {variants:,} variants", flush=True)
        result = run_one("csv_import.py", database, ["--variants", str(variants)])
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("csv", result)
    write_section("csv", csv_section(results))


if __name__ == "__main__":
    main()
