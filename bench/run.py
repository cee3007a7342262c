"""Run the benchmarks and write their figures into docs/benchmarks.md.

    .venv/bin/python bench/run.py [--only encryption,orders,orderlist,collections,csv,
                                          privacy,channels]
                                  [--customers N] [--variants N]
                                  [--orders N] [--list-orders N] [--databases sqlite,postgres]
                                  [--quick]

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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from catalog_sections import collections_section, csv_section
from order_sections import orderlist_section, orders_section
from privacy_sections import privacy_section

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PG_ADMIN = os.environ.get("STORESYNC_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# The benchmarks connect as the application's role, as production does: not a superuser, so
# row-level security applies and its cost is in the figures (the superuser bypasses it).
PG_APP = os.environ.get("STORESYNC_BENCH_PG_APP", "postgres://storesync@127.0.0.1:5432")
# Several people (or worktrees) may benchmark on one server: name your own database.
# Another name, so that two benchmark runs do not collide (either variable is honoured).
PG_DATABASE = os.environ.get("STORESYNC_BENCH_PG_DB",
                             os.environ.get("STORESYNC_BENCH_DB", "storesync_bench"))
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
    """A new, empty database owned by the application role (created if missing, with the
    rights ``.ci/run`` gives it: LOGIN, no superuser, no BYPASSRLS)."""
    if not _pg_version():
        return None
    role = urlsplit(PG_APP).username or "storesync"
    statements = (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f'CREATE ROLE "{role}" LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS; END IF; END $$',
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" OWNER "{role}"')
    for sql in statements:
        subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", sql], check=True,
                       capture_output=True, timeout=60)
    return f"{PG_APP}/{name}"


KEYS = ROOT / "var" / "bench"  # git-ignored: master keys of PostgreSQL bench databases


def _master_key(pg_name: str | None, *, reuse: bool) -> str:
    """A new random master key, kept (0600, under var/) for a PostgreSQL database so that a
    later ``--reuse`` run can open the data keys the first run wrapped with it."""
    if pg_name is None:
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    path = KEYS / f"{pg_name}.key"
    if reuse:
        if not path.exists():
            raise SystemExit(f"--reuse: no key for {pg_name} (was it filled by this checkout?)")
        return path.read_text().strip()
    KEYS.mkdir(parents=True, exist_ok=True)
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def run_one(script: str, database: str, extra: list[str], pg_name: str = PG_DATABASE,
            reuse: bool = False) -> dict:
    """Run ``script`` on a fresh database (or, with ``reuse``, on the PostgreSQL database an
    earlier run left, with its master key); returns the JSON object it printed."""
    with tempfile.TemporaryDirectory(prefix="storesync-bench-") as tmp:
        if database == "sqlite":
            url: str | None = f"sqlite:///{tmp}/bench.db"
        elif reuse:
            url = f"{PG_APP}/{pg_name}" if _pg_version() else None
        else:
            url = _fresh_pg(pg_name)
        if url is None:
            return {"database": database, "skipped": "PostgreSQL is not reachable"}
        key = _master_key(None if database == "sqlite" else pg_name, reuse=reuse)
        env = {**os.environ, "STORESYNC_DATA_DIR": tmp, "STORESYNC_DATABASE_URL": url,
               "STORESYNC_MASTER_KEY": key, "STORESYNC_LOG_LEVEL": "WARNING"}
        env.pop("STORESYNC_REDIS_URL", None)
        done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *extra], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{script} on {database} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    # The load average says how much of the machine others were using: on a shared machine,
    # wall-time figures are only comparable at similar loads.
    return (f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores (load average "
            f"{os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, PostgreSQL {_pg_version() or 'n/a'}")


def encryption_section(results: list[dict]) -> str:
    lines = [
        "## Field encryption cost",
        "",
        "Create and read customers, each with one address: 11 personal fields encrypted with "
        "AES-256-GCM and 2 blind indexes (HMAC-SHA256), against plain-text twin tables with "
        "the same columns and indexes, through the same validation and bulk-insert path "
        "(`bench/encryption.py`). *Read, decrypt* decrypts every field; *read, audited* also "
        "appends one `personal_data.read` audit event per customer, as every real read does. "
        "Median of the repetitions. Goal: encrypted at most 1.3x plain. *CPU* ratios divide the "
        "benchmark process's CPU seconds (without the database server's), which a busy shared "
        "machine distorts less than wall time.",
        "",
        "| database | customers | create plain | create encrypted | ratio | CPU ratio | "
        "read plain | read, decrypt | ratio | CPU ratio | read, audited | ratio | "
        "lookup p50 plain / encrypted | peak MiB per 5,000-row batch plain / encrypted |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} |" + " |" * 12)
            continue
        s, n = r["seconds"], r["customers"]
        cpu = r.get("cpu_seconds")

        def cpu_ratio(a: str, b: str, cpu: dict | None = cpu) -> str:
            return f"{cpu[a] / cpu[b]:.2f}x" if cpu else "n/a"

        def rate(key: str, s: dict = s, n: int = n) -> str:
            return f"{n / s[key]:,.0f}/s"

        lines.append(
            f"| {r['database']} | {n:,} | {rate('create_plain')} | {rate('create_encrypted')} "
            f"| **{s['create_encrypted'] / s['create_plain']:.2f}x** | "
            f"{cpu_ratio('create_encrypted', 'create_plain')} | {rate('read_plain')} | "
            f"{rate('read_decrypt')} | **{s['read_decrypt'] / s['read_plain']:.2f}x** | "
            f"{cpu_ratio('read_decrypt', 'read_plain')} | "
            f"{rate('read_audited')} | {s['read_audited'] / s['read_plain']:.2f}x | "
            f"{r['lookup_p50_ms']['plain']:.2f} / {r['lookup_p50_ms']['encrypted']:.2f} ms | "
            f"{r['peak_mib_per_batch']['plain']:.0f} / {r['peak_mib_per_batch']['encrypted']:.0f}"
            " |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)


RESULTS = ROOT / "bench" / "results"


def _dry_run() -> bool:
    # An environment variable rather than a module flag: channel_report imports this file as
    # ``run`` while it also runs as ``__main__``.
    return os.environ.get("STORESYNC_BENCH_DRY_RUN") == "1"


def remember(name: str, result: dict) -> list[dict]:
    """Keep each database's latest result, so one database can be re-run on its own."""
    if _dry_run():
        return [result]
    RESULTS.mkdir(exist_ok=True)
    database = result["database"]
    (RESULTS / f"{name}-{database}.json").write_text(json.dumps(result, indent=1) + "\n")
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob(f"{name}-*.json"))]


def write_section(name: str, body: str) -> None:
    if _dry_run():
        print(body, flush=True)
        return
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = DOC.read_text() if DOC.exists() else HEADER
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else \
        text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def _per_database(args: argparse.Namespace, name: str, script: str,
                  section: Callable[[list[dict]], str], describe: str,
                  extra: Callable[[str], list[str]], pg_name: str | None = None,
                  reuse: bool = False) -> None:
    """Run ``script`` once per database (each fresh), keep the results and write the
    ``name`` section of docs/benchmarks.md."""
    results: list[dict] = []
    for database in args.databases.split(","):
        print(f"{name} benchmark on {database}: {describe}", flush=True)
        result = run_one(script, database, extra(database),
                         pg_name=pg_name or f"{PG_DATABASE}_{name}",
                         reuse=reuse and database == "postgres")
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember(name, result)
    write_section(name, section(results))


def run_encryption(args: argparse.Namespace) -> None:
    customers, repeat = (10_000, 1) if args.quick else (args.customers, args.repeat)
    _per_database(args, "encryption", "encryption.py", encryption_section,
                  f"{customers:,} customers x {repeat}",
                  lambda _: ["--customers", str(customers), "--repeat", str(repeat)],
                  pg_name=PG_DATABASE)


def run_orders(args: argparse.Namespace) -> None:
    orders, repeat = (300, 1) if args.quick else (args.orders, args.repeat)
    _per_database(args, "orders", "orders.py", orders_section,
                  f"{orders:,} orders x {repeat}",
                  lambda _: ["--orders", str(orders), "--repeat", str(repeat)])


def run_orderlist(args: argparse.Namespace) -> None:
    orders = 50_000 if args.quick else args.list_orders
    print(f"order list benchmark on postgres: {orders:,} orders", flush=True)
    result = run_one("orderlist.py", "postgres",
                     ["--orders", str(orders), "--requests", str(args.requests)],
                     pg_name=f"{PG_DATABASE}_orderlist")
    print(json.dumps(result), flush=True)
    if "skipped" not in result:
        result["measured"] = machine()
        write_section("orderlist", orderlist_section(remember("orderlist", result)))


def run_collections(args: argparse.Namespace) -> None:
    products = 5_000 if args.quick else 20_000
    _per_database(args, "collections", "smart_collections.py", collections_section,
                  f"{products:,} products", lambda _: ["--products", str(products)])


def run_csv(args: argparse.Namespace) -> None:
    variants = 10_000 if args.quick else args.variants
    _per_database(args, "csv", "csv_import.py", csv_section, f"{variants:,} variants",
                  lambda _: ["--variants", str(variants)])


def run_privacy(args: argparse.Namespace) -> None:
    def extra(database: str) -> list[str]:
        # SQLite gets at most 100,000 filler customers: its load would not fit the budget.
        customers = args.privacy_customers if database == "postgres" else \
            min(args.privacy_customers, 100_000)
        return ["--customers", str(customers), "--load-seconds",
                str(args.privacy_load_seconds), "--samples", "10" if args.quick else "40",
                *(["--reuse"] if args.reuse and database == "postgres" else [])]

    _per_database(args, "privacy", "privacy.py", privacy_section,
                  f"up to {args.privacy_customers:,} filler customers", extra,
                  reuse=args.reuse)


def run_channel_sync(args: argparse.Namespace) -> None:
    from channel_report import run_channels

    run_channels(args.databases.split(","), 2_000 if args.quick else args.skus)


BENCHMARKS = {"encryption": run_encryption, "orders": run_orders, "orderlist": run_orderlist,
              "collections": run_collections, "csv": run_csv, "privacy": run_privacy,
              "channels": run_channel_sync}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated, of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=2000, help="order creation benchmark")
    parser.add_argument("--variants", type=int, default=100_000, help="CSV benchmark")
    parser.add_argument("--skus", type=int, default=10_000, help="channel fan-out SKUs")
    parser.add_argument("--privacy-customers", type=int, default=1_000_000,
                        help="filler customers (10 orders each) for the privacy benchmark")
    parser.add_argument("--privacy-load-seconds", type=int, default=600,
                        help="time budget of the privacy benchmark's bulk load")
    parser.add_argument("--list-orders", type=int, default=1_000_000,
                        help="orders in the database for the order list benchmark")
    parser.add_argument("--requests", type=int, default=200, help="per order list scenario")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true",
                        help="10,000 customers, 300 orders, 50,000 listed orders, 1 repetition")
    parser.add_argument("--reuse", action="store_true",
                        help="privacy: measure again on the PostgreSQL database the last run "
                             "filled (topped up to the counts asked for) instead of a new one")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the figures; leave docs/benchmarks.md and bench/results alone")
    args = parser.parse_args()
    if args.dry_run:
        os.environ["STORESYNC_BENCH_DRY_RUN"] = "1"
    unknown = set(args.only.split(",")) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark {sorted(unknown)[0]!r}")
    for name in args.only.split(","):
        BENCHMARKS[name](args)
    if not args.dry_run:
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
