"""Run the benchmarks and write their figures into docs/benchmarks.md.

    .venv/bin/python bench/run.py [--customers N] [--databases sqlite,postgres] [--quick]

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


def run_one(script: str, database: str, extra: list[str],
            pg_name: str = "storesync_bench") -> dict:
    with tempfile.TemporaryDirectory(prefix="storesync-bench-") as tmp:
        url = (f"sqlite:///{tmp}/bench.db" if database == "sqlite"
               else _fresh_pg(pg_name))
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


def privacy_section(results: list[dict]) -> str:
    lines = [
        "## Privacy engine",
        "",
        "`bench/privacy.py`: a workspace filled by the bench-only loader (`bench/privacy_load.py`:"
        " encrypted template rows copied with `INSERT ... SELECT` over a generated series, in "
        "chunks, within a time budget), plus subjects created through the services (a customer "
        "with an address, 3 orders and an abandoned checkout). *Access* builds the ZIP export "
        "(every decrypting read audited); *erasure* runs the whole local erasure transaction and "
        "plans propagation; the 1,000-order subject is erased the same way; the sweep applies "
        "every retention target to abandoned checkouts abandoned in 2020. Goals: access p95 < "
        "100 ms, erasure p95 < 250 ms, 1,000 orders < 1 s, sweep > 20,000 records/s. Fides' "
        "published reference: 0.4 s per access request, 1.1 s per erasure, 37.5 s for a "
        "customer with 1,000 orders. Filler orders are guest orders (no customer link) and "
        "their ciphertext cannot be decrypted (copied under new ids); they give the tables "
        "their size and indexes. The issue's 1,000,000 customers and 10,000,000 orders do not "
        "load in the time budget on this machine: the table says what was loaded.",
        "",
        "| database | filler customers / orders (load s) | access p50 / p95 | erasure p50 / p95 "
        "| erasure, 1,000 orders | sweep |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} | | | | |")
            continue
        size, sweep = r["size"], r["sweep"]
        lines.append(
            f"| {r['database']} | {size['customers']:,} / {size['orders']:,} "
            f"({size['load_seconds']}) | {r['access_ms']['p50']} / **{r['access_ms']['p95']} ms**"
            f" | {r['erasure_ms']['p50']} / **{r['erasure_ms']['p95']} ms** | "
            f"**{r['erasure_1000_orders_ms']:,.0f} ms** | **{sweep['per_second']:,}/s** "
            f"({sweep['records']:,} in {sweep['seconds']} s) |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)


def run_privacy(args: argparse.Namespace) -> None:
    results: list[dict] = []
    for database in args.databases.split(","):
        customers = args.privacy_customers if database == "postgres" else \
            min(args.privacy_customers, 100_000)
        print(f"privacy benchmark on {database}: up to {customers:,} filler customers",
              flush=True)
        result = run_one("privacy.py", database, [
            "--customers", str(customers), "--load-seconds", str(args.privacy_load_seconds),
            "--samples", "10" if args.quick else "40"],
            pg_name=os.environ.get("STORESYNC_BENCH_PG_DB", "storesync_bench_privacy"))
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("privacy", result)
    write_section("privacy", privacy_section(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--quick", action="store_true", help="10,000 customers, 1 repetition")
    parser.add_argument("--privacy", action="store_true",
                        help="run the privacy-engine benchmark instead (bench/privacy.py)")
    parser.add_argument("--privacy-customers", type=int, default=1_000_000,
                        help="filler customers (10 orders each) for --privacy")
    parser.add_argument("--privacy-load-seconds", type=int, default=600,
                        help="time budget of the --privacy bulk load")
    args = parser.parse_args()
    if args.privacy:
        run_privacy(args)
        print(f"wrote {DOC.relative_to(ROOT)}")
        return
    customers, repeat = (10_000, 1) if args.quick else (args.customers, args.repeat)
    results: list[dict] = []
    for database in args.databases.split(","):
        print(f"encryption benchmark on {database}: {customers:,} customers x {repeat}",
              flush=True)
        result = run_one("encryption.py", database,
                         ["--customers", str(customers), "--repeat", str(repeat)])
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("encryption", result)
    write_section("encryption", encryption_section(results))
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
