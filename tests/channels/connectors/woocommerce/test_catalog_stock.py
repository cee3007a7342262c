"""Credentials, catalog import and stock pushes against the WooCommerce simulator."""

from __future__ import annotations

import httpx
import pytest

from storesync.channels.connectors.base import (
    AuthFailed,
    ChannelError,
    PushOutcome,
    QuantityUpdate,
    Rejected,
    Throttled,
)
from storesync.channels.connectors.base import (
    Connector as ConnectorProtocol,
)
from storesync.channels.connectors.woocommerce.client import WooClient
from storesync.channels.ratelimit import LocalThrottle
from tests.channels.connectors.woocommerce.conftest import connect


def _calls(control, prefix):
    return [c for c in control.get("/_sandbox/state").json()["calls"] if c.startswith(prefix)]


def test_credentials_accepted_and_refused(woo, connector):
    assert isinstance(connector, ConnectorProtocol)
    info = connector.verify_credentials()
    assert (info.name, info.currency) == ("Sandbox Store", "INR")
    assert info.domain == woo.url.removeprefix("http://")
    with pytest.raises(AuthFailed, match="Consumer secret is invalid"):
        connect(woo, consumer_secret="cs_wrong").verify_credentials()
    with pytest.raises(AuthFailed, match="HTTPS"):
        connect(woo, url="http://shop.example.com")


def test_catalog_import_walks_every_page_and_every_variation(woo, control, connector):
    control.post("/_sandbox/seed", json={"products": 230, "variable_every": 3})
    seen = []
    products = list(connector.import_catalog(progress=lambda done, total: seen.append(
        (done, total))))
    assert len(products) == 230 and seen[-1] == (230, 230)
    pages = [c for c in _calls(control, "GET /wp-json/wc/v3/products")
             if c == "GET /wp-json/wc/v3/products"]
    assert len(pages) == 3  # 100 + 100 + 30, found through Link rel="next"

    variable = [p for p in products if len(p.variants) == 3]
    assert len(variable) == 76
    shirt = variable[0]
    assert shirt.option_names == ("Size",)
    assert [v.options for v in shirt.variants] == [("S",), ("M",), ("L",)]
    stored = woo.sandbox.store.products[int(shirt.external_id)]
    first = woo.sandbox.store.variations[stored["variations"][0]]
    assert shirt.variants[0].inventory_item_id == f"{stored['id']}/{first['id']}"
    assert shirt.variants[0].sku == first["sku"]
    assert shirt.variants[0].price_minor == int(first["regular_price"].replace(".", ""))
    simple = next(p for p in products if len(p.variants) == 1)
    assert simple.variants[0].inventory_item_id == simple.external_id
    assert simple.status == "active" and simple.updated_at is not None


def test_push_of_250_quantities_takes_three_batch_calls(woo, control, connector):
    ids = control.post("/_sandbox/seed", json={"products": 250, "variable_every": 0}).json()[
        "product_ids"]
    updates = [QuantityUpdate(str(pid), "default", quantity=i % 17, expected=3)
               for i, pid in enumerate(ids)]
    results = connector.push_quantities(updates)
    assert len(_calls(control, "POST /wp-json/wc/v3/products/batch")) == 3
    assert [r.outcome for r in results] == [PushOutcome.OK] * 250
    assert all("no compare-and-set" in r.error for r in results)  # expected was ignored
    assert [woo.sandbox.store.products[pid]["stock_quantity"] for pid in ids] == [
        i % 17 for i in range(250)]
    levels = connector.fetch_levels([str(pid) for pid in ids[:5]])
    assert sorted((lv.inventory_item_id, lv.available) for lv in levels) == sorted(
        (str(pid), i % 17) for i, pid in enumerate(ids[:5]))


def test_variations_are_pushed_per_parent_and_read_back(woo, control, connector):
    control.post("/_sandbox/seed", json={"products": 3, "variable_every": 3})
    parent = next(p for p in woo.sandbox.store.products.values() if p["type"] == "variable")
    items = [f"{parent['id']}/{vid}" for vid in parent["variations"]]
    results = connector.push_quantities([QuantityUpdate(i, "default", 11) for i in items]
                                        + [QuantityUpdate("not-an-id", "default", 1)])
    assert [r.outcome for r in results] == [PushOutcome.OK] * 3 + [PushOutcome.FAILED]
    assert not results[-1].retryable
    assert _calls(control, f"POST /wp-json/wc/v3/products/{parent['id']}/variations/batch")
    levels = connector.fetch_levels(items)
    assert {(lv.inventory_item_id, lv.available, lv.location_id) for lv in levels} == {
        (i, 11, "default") for i in items}

    sale = control.post("/_sandbox/orders", json={"line_items": [
        {"product_id": parent["id"], "variation_id": parent["variations"][0],
         "quantity": 4}]})
    assert sale.status_code == 201
    (level,) = connector.fetch_levels(items[:1])
    assert level.available == 7


def test_a_batch_over_100_is_refused_by_the_platform(woo, control, connector):
    ids = control.post("/_sandbox/seed", json={"products": 101, "variable_every": 0}).json()[
        "product_ids"]
    client = connector._client  # the transport itself, to send what the connector never does
    with pytest.raises(Rejected) as refused:
        client.request("POST", "/products/batch", body={
            "update": [{"id": pid, "stock_quantity": 1} for pid in ids]})
    assert refused.value.status == 413 and not refused.value.retryable
    assert "woocommerce_rest_request_entity_too_large" in refused.value.message


def test_429_surfaces_as_throttled_with_retry_after(woo, control, connector):
    ids = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"]
    control.post("/_sandbox/faults", json={"rate_limit": 0.2})
    control.get("/wp-json/wc/v3/products", auth=("x", "y"))  # spends the only token
    with pytest.raises(Throttled) as throttled:
        connector.push_quantities([QuantityUpdate(str(ids[0]), "default", 2)])
    assert throttled.value.retry_after_s >= 1 and throttled.value.retryable


def test_server_errors_and_bad_bodies_are_retryable(woo, control, connector):
    control.post("/_sandbox/faults", json={"error_count": 1, "error_status": 503})
    with pytest.raises(ChannelError) as failed:
        connector.verify_credentials()
    assert failed.value.status == 503 and failed.value.retryable
    control.post("/_sandbox/faults", json={"malformed_count": 1})
    with pytest.raises(ChannelError, match="not JSON") as cut:
        connector.verify_credentials()
    assert cut.value.retryable
    assert connector.verify_credentials().currency == "INR"


def test_unreachable_store_is_a_retryable_channel_error(woo):
    http = httpx.Client(transport=httpx.HTTPTransport(retries=0))
    closed = connect(woo, url="http://127.0.0.1:9")
    closed._client._http = http
    with pytest.raises(ChannelError) as failed:
        closed.verify_credentials()
    assert failed.value.retryable and "unreachable" in failed.value.message


def test_keys_never_follow_a_next_link_to_another_host():
    asked = []

    def store(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        assert request.url.host == "shop.example.com"  # the keys go nowhere else
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[{"id": 2}], headers={
                "X-WP-Total": "2", "X-WP-TotalPages": "2"})
        return httpx.Response(200, json=[{"id": 1}], headers={
            "X-WP-Total": "2", "X-WP-TotalPages": "2",
            "Link": '<https://elsewhere.example.net/wp-json/wc/v3/webhooks?page=2>; rel="next"'})

    client = WooClient(url="https://shop.example.com", consumer_key="ck_x",
                       consumer_secret="cs_x", throttle=LocalThrottle(),
                       http=httpx.Client(transport=httpx.MockTransport(store)))
    pages = list(client.pages("/webhooks"))
    assert [item["id"] for page in pages for item in page.items] == [1, 2]
    assert len(asked) == 2


def test_a_deleted_parent_fails_its_items_only(woo, control, connector):
    control.post("/_sandbox/seed", json={"products": 6, "variable_every": 3})
    gone, kept = (p for p in woo.sandbox.store.products.values() if p["type"] == "variable")
    simple = next(p for p in woo.sandbox.store.products.values() if p["type"] == "simple")
    control.delete(f"/wp-json/wc/v3/products/{gone['id']}", params={"force": "true"},
                   auth=(woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret))
    results = connector.push_quantities([
        QuantityUpdate(f"{gone['id']}/{gone['variations'][0]}", "default", 4),
        QuantityUpdate(f"{kept['id']}/{kept['variations'][0]}", "default", 4),
        QuantityUpdate(str(simple["id"]), "default", 4)])
    assert [r.outcome for r in results] == [PushOutcome.FAILED, PushOutcome.OK, PushOutcome.OK]
    assert not results[0].retryable and "product_invalid_id" in results[0].error
    assert woo.sandbox.store.variations[kept["variations"][0]]["stock_quantity"] == 4
    assert simple["stock_quantity"] == 4


def test_a_redirect_is_reported_not_followed():
    def store(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "shop.example.com"
        return httpx.Response(301, headers={"Location": "https://www.shop.example.com/wp-json/"})

    client = WooClient(url="https://shop.example.com", consumer_key="ck_x",
                       consumer_secret="cs_x", throttle=LocalThrottle(),
                       http=httpx.Client(transport=httpx.MockTransport(store)))
    with pytest.raises(Rejected, match=r"www\.shop\.example\.com") as redirected:
        client.request("GET", "/products")
    assert not redirected.value.retryable
