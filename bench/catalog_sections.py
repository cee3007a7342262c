"""docs/benchmarks.md sections of the catalog benchmarks (smart collections, CSV)."""

from __future__ import annotations


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
