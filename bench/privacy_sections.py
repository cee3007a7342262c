"""docs/benchmarks.md section of the privacy-engine benchmark."""

from __future__ import annotations


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
        "customer with 1,000 orders. Filler orders are guest orders (no customer link), each "
        "with its template's order line, and their ciphertext cannot be decrypted (copied "
        "under new ids); they give the tables their size and indexes. The issue asks for "
        "1,000,000 customers and 10,000,000 orders on PostgreSQL; the table says what was "
        "loaded within the time budget.",
        "",
        "| database | filler customers / orders / order lines (load s) | access p50 / p95 "
        "| erasure p50 / p95 | erasure, 1,000 orders | sweep |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if "skipped" in r:
            lines.append(f"| {r['database']} | skipped: {r['skipped']} | | | | |")
            continue
        size, sweep = r["size"], r["sweep"]
        lines.append(
            f"| {r['database']} | {size['customers']:,} / {size['orders']:,} / "
            f"{size.get('order_lines', 0):,} ({size['load_seconds']}) | "
            f"{r['access_ms']['p50']} / **{r['access_ms']['p95']} ms**"
            f" | {r['erasure_ms']['p50']} / **{r['erasure_ms']['p95']} ms** | "
            f"**{r['erasure_1000_orders_ms']:,.0f} ms** | **{sweep['per_second']:,}/s** "
            f"({sweep['records']:,} in {sweep['seconds']} s) |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)
