"""``bench/run.py --only channels``: runs ``channel_sync.py`` per database and writes the
``channels`` section of docs/benchmarks.md."""

from __future__ import annotations

import json

from run import machine, remember, run_one, write_section

FANOUT_GOAL = 1.2
LATENCY_GOAL_S = 2.0


def run_channels(databases: list[str], skus: int) -> None:
    results: list[dict] = []
    for database in databases:
        print(f"channel sync benchmark on {database}: {skus:,} SKUs", flush=True)
        result = run_one("channel_sync.py", database, ["--skus", str(skus)])
        print(json.dumps(result), flush=True)
        if "skipped" not in result:
            result["measured"] = machine()
            results = remember("channels", result)
    write_section("channels", channels_section(results))


def channels_section(results: list[dict]) -> str:
    lines = [
        "## Channel sync engine (both simulators)",
        "",
        "`bench/channel_sync.py`: the Shopify and WooCommerce simulators on 127.0.0.1, the "
        "hub's engine pushing to both. *Fan-out*: N SKUs listed on both channels change in "
        "one hub transaction; time until both simulators show the hub's quantity, one "
        "dispatcher per connection. The floor is what the platforms' documented limits allow: "
        "WooCommerce 100 updates per batch call at 5 requests/s (burst 10, the connector's "
        "default and the simulator's limit), Shopify 250 per `inventorySetQuantities` at 10 "
        "points a call against the *standard* plan's bucket (2,000 points, 100/s restore) — "
        "so WooCommerce sets the floor. Goal: at most 1.2x the floor. *Latency*: one sale on "
        "Shopify to the new quantity on WooCommerce (webhook, reconciliation, reservation, "
        "push) with both simulators answering in 100 ms; goal p95 under 2 s. *Intake*: "
        "`POST /webhooks/shopify/<id>` under waitress with 4 concurrent senders; *acknowledged* "
        "stores and queues only, *end to end* processes each order inline before answering "
        "(reconciliation, order, reservation, pushes to both channels).",
        "",
        "| database | fan-out SKUs | fan-out time | floor | ratio | latency p50 / p95 | "
        "webhooks acknowledged | orders end to end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        f, lat, i = r.get("fanout", {}), r.get("latency", {}), r.get("intake", {})
        ratio = f["seconds"] / f["floor_s"] if f.get("floor_s") else float("nan")
        lines.append(
            f"| {r['database']} | {f.get('skus', 0):,} (agree: {f.get('agree')}) | "
            f"{f.get('seconds', 0):.1f} s | {f.get('floor_s', 0):.1f} s | "
            f"**{ratio:.2f}x** | {lat.get('p50_s', 0):.2f} / **{lat.get('p95_s', 0):.2f} s** | "
            f"{i.get('ack_per_s', 0):,.0f}/s | {i.get('orders_per_s', 0):.1f}/s |")
    lines += ["", *sorted({f"Measured {r['measured']}." for r in results if "measured" in r}),
              ""]
    return "\n".join(lines)
