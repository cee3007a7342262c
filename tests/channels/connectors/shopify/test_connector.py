"""The Shopify connector against the running sandbox: credentials, catalog, stock, orders,
fulfillments, throttling and failures."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from storesync.channels.connectors.base import (
    AuthFailed,
    ChannelError,
    FulfillmentPush,
    PushOutcome,
    QuantityUpdate,
    Rejected,
    Throttled,
)
from storesync.channels.connectors.base import (
    Connector as ConnectorProtocol,
)
from storesync.channels.connectors.registry import build_connector
from storesync.channels.connectors.shopify import Connector
from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from tests.channels.connectors.shopify.conftest import connect
from tests.channels.sandbox.shopify.conftest import Api


def _levels(api: Api) -> list[dict]:
    return api.control("GET", "state")["levels"]


def _requests(api: Api) -> int:
    return api.control("GET", "stats")["requests"]


def test_the_registry_builds_it_and_it_meets_the_protocol(sandbox: SandboxServer) -> None:
    connector = build_connector("shopify", credentials={
        "shop": sandbox.url, "access_token": sandbox.config.access_token})
    assert isinstance(connector, Connector)
    assert isinstance(connector, ConnectorProtocol)
    assert connector.max_quantity_batch == 250


def test_credentials_accepted_describe_the_shop(connector: Connector) -> None:
    info = connector.verify_credentials()
    assert (info.name, info.domain, info.currency, info.plan) == (
        "Sandbox Traders", "sandbox.myshopify.com", "INR", "Basic")


def test_refused_credentials_raise_auth_failed(sandbox: SandboxServer) -> None:
    connector = connect(sandbox, token="shpat_wrong")
    with pytest.raises(AuthFailed) as caught:
        connector.verify_credentials()
    assert caught.value.status == 401 and not caught.value.retryable


def test_bad_shop_domains_are_refused_before_any_call() -> None:
    with pytest.raises(Rejected):
        Connector(credentials={"shop": "not a domain", "access_token": "x"})
    with pytest.raises(Rejected):
        Connector(credentials={"shop": "acme.myshopify.com"})


def test_catalog_import_pages_through_products_with_variants_in_minor_units(
        connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 20, "variants_per_product": 3, "seed": 4})
    seen: list[tuple[int, int | None]] = []
    before = _requests(api)
    products = list(connector.import_catalog(progress=lambda done, total: seen.append(
        (done, total))))
    assert len(products) == 20
    assert _requests(api) - before == 1 + 3  # the shop, then 8 + 8 + 4 products
    assert seen[-1] == (20, 20)
    first = products[0]
    assert first.external_id.startswith("gid://shopify/Product/")
    assert first.option_names == ("Size", "Colour") and first.status == "active"
    assert len(first.variants) == 3
    variant = first.variants[0]
    shopify_variant = sandbox_variant(api, variant.external_id)
    assert variant.price_minor == int(shopify_variant["price"].replace(".", ""))
    assert variant.inventory_item_id.startswith("gid://shopify/InventoryItem/")
    assert variant.sku and variant.hsn_code == "6109" and variant.weight_grams


def sandbox_variant(api: Api, variant_id: str) -> dict:
    response = api.graphql("query($id: ID!) { node(id: $id) { ... on ProductVariant { price } } }",
                           id=variant_id)
    return response.json()["data"]["node"]


def test_large_catalogs_come_through_a_bulk_operation(connector: Connector, api: Api,
                                                      sandbox: SandboxServer) -> None:
    api.control("POST", "seed", {"products": 30, "variants_per_product": 2, "seed": 9})
    paged = {p.external_id: p for p in connector.import_catalog()}
    connector.bulk_threshold = 10
    bulk = {p.external_id: p for p in connector.import_catalog()}
    assert len(sandbox.shop.bulk_operations) == 1
    assert bulk == paged and len(bulk) == 30
    assert all(len(p.variants) == 2 for p in bulk.values())


def _updates(api: Api, quantity: int) -> list[QuantityUpdate]:
    return [QuantityUpdate(inventory_item_id=lv["inventory_item_id"],
                           location_id=lv["location_id"], quantity=quantity,
                           expected=lv["available"], sku=lv["sku"]) for lv in _levels(api)]


def test_600_quantities_go_in_three_calls_with_compare_and_set(connector: Connector,
                                                               api: Api) -> None:
    api.control("POST", "seed", {"products": 150, "variants_per_product": 4, "seed": 2})
    updates = _updates(api, 7)
    assert len(updates) == 600
    before = _requests(api)
    results = connector.push_quantities(updates)
    assert _requests(api) - before == 3
    assert [r.outcome for r in results] == [PushOutcome.OK] * 600
    assert {lv["available"] for lv in _levels(api)} == {7}


def test_a_sale_in_between_makes_the_push_stale_and_says_what_shopify_has(
        connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 2, "variants_per_product": 2, "seed": 3,
                                 "stock": 10})
    updates = _updates(api, 4)
    api.control("POST", "orders", {"lines": [{"sku": updates[0].sku, "quantity": 1}]})
    results = connector.push_quantities(updates)
    assert results[0].outcome is PushOutcome.STALE and results[0].channel_quantity == 9
    assert [r.outcome for r in results[1:]] == [PushOutcome.OK] * 3
    levels = {lv["sku"]: lv["available"] for lv in _levels(api)}
    assert levels[updates[0].sku] == 9  # not overwritten
    assert all(levels[u.sku] == 4 for u in updates[1:])


def test_unknown_items_fail_alone(connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "variants_per_product": 2, "seed": 5})
    good = _updates(api, 3)
    bad = QuantityUpdate("gid://shopify/InventoryItem/999999", good[0].location_id, 1, None)
    results = connector.push_quantities([bad, *good])
    assert results[0].outcome is PushOutcome.FAILED and not results[0].retryable
    assert "INVALID_INVENTORY_ITEM" in results[0].error
    assert [r.outcome for r in results[1:]] == [PushOutcome.OK, PushOutcome.OK]


def test_fetch_levels_reads_every_location(connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 20, "variants_per_product": 2, "seed": 6,
                                 "stock": 5})
    items = [lv["inventory_item_id"] for lv in _levels(api)]
    levels = connector.fetch_levels(items)
    assert len(levels) == 40 and {lv.available for lv in levels} == {5}
    assert all(lv.sku for lv in levels)


def test_steady_traffic_waits_for_points_instead_of_being_throttled() -> None:
    server = SandboxServer(Config(bucket_size=30, restore_rate=100)).start()
    try:
        server.shop.seed_catalog(products=1, variants_per_product=1, seed=1)
        connector = connect(server)
        api = Api(server)
        update = _updates(api, 1)[0]
        started = time.monotonic()
        for quantity in range(1, 21):  # 20 mutations of 10 points against 30 + 100/s
            connector.push_quantities([QuantityUpdate(update.inventory_item_id,
                                                      update.location_id, quantity, None)])
        elapsed = time.monotonic() - started
        assert api.control("GET", "stats")["throttled"] == 0
        assert elapsed >= 1.5  # (200 - 30) points at 100 per second
    finally:
        server.close()


def test_a_throttled_shop_is_retried_briefly_then_surfaced(connector: Connector,
                                                           api: Api) -> None:
    api.control("POST", "faults", {"throttle": 1})
    assert connector.verify_credentials().name == "Sandbox Traders"  # retried once
    api.control("POST", "faults", {"throttle": 5})
    with pytest.raises(Throttled) as caught:
        connector.verify_credentials()
    assert caught.value.retry_after_s > 0 and caught.value.retryable


def test_server_errors_are_retryable_channel_errors(connector: Connector, api: Api) -> None:
    api.control("POST", "faults", {"http_5xx": 1})
    assert connector.verify_credentials().currency == "INR"
    api.control("POST", "faults", {"http_5xx": 5, "status_5xx": 502})
    with pytest.raises(ChannelError) as caught:
        connector.verify_credentials()
    assert caught.value.retryable and caught.value.status == 502
    api.control("POST", "faults", {"http_5xx": 0, "malformed": 5})
    with pytest.raises(ChannelError, match="unreadable"):
        connector.verify_credentials()


def test_timeouts_are_retryable(sandbox: SandboxServer, api: Api) -> None:
    connector = connect(sandbox, http=httpx.Client(timeout=0.2))
    api.control("POST", "faults", {"timeout": 3, "timeout_s": 0.5})
    with pytest.raises(ChannelError, match="in time") as caught:
        connector.verify_credentials()
    assert caught.value.retryable


def test_fulfillment_shows_on_the_shopify_order(connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "variants_per_product": 2, "seed": 8})
    skus = [lv["sku"] for lv in _levels(api)]
    order = api.control("POST", "orders", {"lines": [{"sku": skus[0], "quantity": 2},
                                                     {"sku": skus[1], "quantity": 1}]})
    first_line = order["line_items"][0]["id"]
    fulfillment_id = connector.push_fulfillment(FulfillmentPush(
        order_external_id=order["id"], lines=((first_line, 1),), carrier="Delhivery",
        tracking_number="DL123", tracking_url="https://track.example.com/DL123"))
    shopify_order = next(o for o in api.control("GET", "state")["orders"]
                         if o["id"] == order["id"])
    assert shopify_order["fulfillments"] == [{"id": fulfillment_id, "tracking_number": "DL123",
                                              "tracking_company": "Delhivery",
                                              "lines": [[first_line, 1]]}]
    connector.push_fulfillment(FulfillmentPush(order_external_id=order["id"], lines=()))
    shopify_order = next(o for o in api.control("GET", "state")["orders"]
                         if o["id"] == order["id"])
    assert [fo["status"] for fo in shopify_order["fulfillment_orders"]] == ["CLOSED"]
    with pytest.raises(Rejected, match="nothing left"):
        connector.push_fulfillment(FulfillmentPush(order_external_id=order["id"], lines=()))


def test_order_import_pages_by_update_time(connector: Connector, api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "variants_per_product": 1, "seed": 1,
                                 "stock": 50})
    sku = _levels(api)[0]["sku"]
    start = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(6):
        api.control("POST", "orders", {"lines": [{"sku": sku, "quantity": n + 1}],
                                       "shipping": "49.50"})
    first = connector.import_orders(updated_since=start, cursor=None)
    assert len(first.orders) == 4 and first.next_cursor
    second = connector.import_orders(updated_since=None, cursor=first.next_cursor)
    assert len(second.orders) == 2 and second.next_cursor is None
    orders = first.orders + second.orders
    assert [o.lines[0].quantity for o in orders] == [1, 2, 3, 4, 5, 6]
    order = orders[2]
    assert order.currency == "INR" and order.shipping_minor == 4950
    assert order.lines[0].sku == sku and order.lines[0].unit_price_minor > 0
    assert order.payments[0].card_last4 == "4242" and order.payments[0].kind == "sale"
    assert order.location_id.startswith("gid://shopify/Location/")
    assert order.shipping_address.city == "Bengaluru"
    later = connector.import_orders(updated_since=datetime.now(UTC) + timedelta(minutes=1),
                                    cursor=None)
    assert later.orders == () and later.next_cursor is None


def test_a_push_whose_answer_was_lost_is_replayed_not_reported_stale(
        sandbox: SandboxServer, api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "variants_per_product": 1, "seed": 12,
                                 "stock": 10})
    connector = connect(sandbox, http=httpx.Client(timeout=0.3))
    update = _updates(api, 4)[0]  # expects 10
    api.control("POST", "faults", {"lost_response": 1, "timeout_s": 0.6})
    results = connector.push_quantities([update])
    # Shopify applied the first attempt; the retry carries the same idempotency key, so it
    # gets the first answer back instead of a compare-and-set failure against 4.
    assert results[0].outcome is PushOutcome.OK
    assert _levels(api)[0]["available"] == 4


def test_products_and_orders_with_many_variants_and_lines_are_read_whole(
        connector: Connector, api: Api, sandbox: SandboxServer) -> None:
    api.control("POST", "seed", {"products": 8, "variants_per_product": 4, "seed": 13,
                                 "stock": 5})
    shop = sandbox.shop
    big = next(iter(shop.products.values()))
    template = shop.variants[big.variant_ids[0]]
    with shop.lock:  # widen one product past the 20 variants the first page carries
        for n in range(22):
            variant_id, item_id = shop.new_id(), shop.new_id()
            shop.variants[variant_id] = type(template)(
                variant_id, big.id, f"Extra {n}", f"EXTRA-{n}", template.price,
                template.options, item_id)
            shop.items[item_id] = type(shop.items[template.inventory_item_id])(
                item_id, variant_id, f"EXTRA-{n}")
            shop.levels[(item_id, shop.default_location.id)] = 1
            big.variant_ids.append(variant_id)
    products = {p.external_id: p for p in connector.import_catalog()}
    assert len(products[f"gid://shopify/Product/{big.id}"].variants) == 26
    skus = [lv["sku"] for lv in _levels(api) if not lv["sku"].startswith("EXTRA")][:25]
    api.control("POST", "orders", {"lines": [{"sku": s, "quantity": 1} for s in skus]})
    page = connector.import_orders(updated_since=None, cursor=None)
    assert [len(o.lines) for o in page.orders] == [25]
    assert {line.sku for line in page.orders[0].lines} == set(skus)
