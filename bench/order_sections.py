"""docs/benchmarks.md sections for the order benchmarks (``bench/orders.py``,
``bench/orderlist.py``); kept apart from ``run.py`` so each benchmark owns its table."""

from __future__ import annotations


def _measured(results: list[dict]) -> list[str]:
    return ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}), ""]


def orders_section(results: list[dict]) -> str:
    lines = [
        "## Order creation throughput",
        "",
        "Orders of three lines created one by one through `orders.services.order_create` "
        "(one transaction each: order number, prices, GST split, buyer email and address "
        "encrypted, three stock reservations with their ledger rows and a payment), against "
        "the floor: the same rows written to the same tables with `bulk_create` in one "
        "transaction, without services, validation, locking or level updates "
        "(`bench/orders.py`). Best of "
        "the repetitions. Goal: services within 4x of the floor. *CPU* is the benchmark "
        "process's CPU per order (the database server's is not in it).",
        "",
        "| database | orders | services | floor (bulk insert) | ratio | CPU per order, services "
        "/ floor | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} | | | | | |")
            continue
        cpu = (f"{r['service_cpu_ms_per_order']:.1f} / {r['floor_cpu_ms_per_order']:.2f} ms | "
               f"{r['cpu_ratio']:.1f}x" if "cpu_ratio" in r else "n/a | n/a")
        lines.append(f"| {r['database']} | {r['orders']:,} | {r['service_orders_per_s']:,.0f}/s "
                     f"| {r['floor_orders_per_s']:,.0f}/s | **{r['ratio']:.1f}x** | {cpu} |")
    return "\n".join(lines + _measured(results))


def orderlist_section(results: list[dict]) -> str:
    lines = [
        "## Order list API latency",
        "",
        "`GET /api/v1/orders` (50 per page) through Django's test client (all middleware, "
        "bearer-token auth, JSON), with a million orders of three lines in one workspace "
        "(`bench/orderlist.py`). **Bench-only loading:** the rows are written with "
        "`generate_series`, bypassing the services; the newest orders carry real encrypted "
        "buyer data, so the owner's requests decrypt and audit every page as in production, "
        "while the viewer role sees no personal data. Goal: p99 under 50 ms. *CPU* is the web "
        "process's CPU time per request (the database server's is not in it); on a busy shared "
        "machine wall time also counts waiting for a core.",
        "",
        "| database | orders | request (role) | p50 | p99 | CPU p50 | CPU p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} | | | | | |")
            continue
        for name, figures in r["latency_ms"].items():
            cpu = (f"{figures['cpu_p50']:.1f} ms | {figures['cpu_p99']:.1f} ms"
                   if "cpu_p50" in figures else "n/a | n/a")
            lines.append(f"| {r['database']} | {r['orders']:,} | {name} | "
                         f"{figures['p50']:.1f} ms | {figures['p99']:.1f} ms | {cpu} |")
    return "\n".join(lines + _measured(results))
