"""The Shopify sandbox as a client sees it: auth, cost and bucket, pagination, inventory
rules, bulk results, webhook delivery with retries and faults, and the CLI command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from storesync.channels.sandbox.shopify.webhooks import sign
from tests.channels.sandbox.shopify.conftest import Api
from tests.channels.sandbox.shopify.receiver import Receiver

SET = """mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "%s") {
    inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""


def _level(api: Api) -> dict:
    return api.control("GET", "state")["levels"][0]


def _set_input(level: dict, quantity: int, expected: int | None) -> dict:
    return {"name": "available", "reason": "correction", "quantities": [{
        "inventoryItemId": level["inventory_item_id"], "locationId": level["location_id"],
        "quantity": quantity, "changeFromQuantity": expected}]}


def test_a_wrong_token_gets_401(sandbox: SandboxServer) -> None:
    response = Api(sandbox, token="shpat_nope").graphql("{ shop { name } }")
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_answers_carry_requested_and_actual_cost_and_the_bucket(api: Api) -> None:
    api.control("POST", "seed", {"products": 3, "seed": 1})
    body = api.graphql("{ products(first: 50) { nodes { id title } } }").json()
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 50 and cost["actualQueryCost"] == 2 + 3
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    assert cost["throttleStatus"]["currentlyAvailable"] >= 2000 - 5 - 1


def test_the_plan_sizes_the_bucket() -> None:
    server = SandboxServer(Config(plan="plus")).start()
    try:
        status = Api(server).graphql("{ shop { name } }").json()["extensions"]["cost"][
            "throttleStatus"]
        assert (status["maximumAvailable"], status["restoreRate"]) == (20000.0, 1000.0)
    finally:
        server.close()


def test_a_query_over_1000_points_is_refused(api: Api) -> None:
    body = api.graphql("{ products(first: 250) { nodes { variants(first: 250) { nodes { id } }"
                       " } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_an_empty_bucket_throttles_and_runs_nothing() -> None:
    server = SandboxServer(Config(bucket_size=25, restore_rate=0.5)).start()
    try:
        server.shop.seed_catalog(products=1, variants_per_product=1, seed=1)
        api = Api(server)
        level = _level(api)
        for n in (1, 2):
            assert not api.graphql(SET % n, input=_set_input(level, n, None)).json().get("errors")
        body = api.graphql(SET % 3, input=_set_input(level, 3, None)).json()
        assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
        assert body["extensions"]["cost"]["actualQueryCost"] is None
        assert _level(api)["available"] == 2
        assert api.control("GET", "stats")["throttled"] == 1
    finally:
        server.close()


def test_connections_page_with_cursors_and_require_first(api: Api) -> None:
    api.control("POST", "seed", {"products": 7, "seed": 2})
    seen, after, pages = [], None, 0
    while True:
        page = api.graphql("query($after: String) { products(first: 3, after: $after) { "
                           "pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }",
                           after=after).json()["data"]["products"]
        seen += [e["node"]["id"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3 and len(set(seen)) == 7
    body = api.graphql("{ products { nodes { id } } }").json()
    assert "first or last" in body["errors"][0]["message"]


def test_the_same_seed_gives_the_same_catalog() -> None:
    def catalog() -> list[tuple[str, str, str]]:
        server = SandboxServer(Config(products=5, seed=42))
        try:
            return [(p.title, v.sku, str(v.price)) for p in server.shop.products.values()
                    for v in (server.shop.variants[i] for i in p.variant_ids)]
        finally:
            server.close()
    assert catalog() == catalog()


def test_inventory_set_needs_the_idempotent_directive_and_replays_a_repeated_key(
        api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "seed": 3, "stock": 10})
    level = _level(api)
    no_key = SET.replace(' @idempotent(key: "%s")', "")
    body = api.graphql(no_key, input=_set_input(level, 5, 10)).json()
    assert "@idempotent" in body["errors"][0]["message"]
    first = api.graphql(SET % "k-1", input=_set_input(level, 5, 10)).json()
    again = api.graphql(SET % "k-1", input=_set_input(level, 5, 10)).json()
    assert first["data"] == again["data"]
    assert first["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _level(api)["available"] == 5
    other = api.graphql(SET % "k-1", input=_set_input(level, 4, 5)).json()
    errors = other["data"]["inventorySetQuantities"]["userErrors"]
    assert errors[0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    stale = api.graphql(SET % "k-2", input=_set_input(level, 4, 10)).json()
    errors = stale["data"]["inventorySetQuantities"]["userErrors"]
    assert errors == [{"code": "CHANGE_FROM_QUANTITY_STALE",
                       "field": ["input", "quantities", "0", "changeFromQuantity"],
                       "message": "The changeFromQuantity value does not match persisted "
                                  "value."}]
    missing = _set_input(level, 4, None)
    del missing["quantities"][0]["changeFromQuantity"]
    errors = api.graphql(SET % "k-3", input=missing).json()["data"][
        "inventorySetQuantities"]["userErrors"]
    assert errors[0]["code"] == "COMPARE_QUANTITY_REQUIRED"


def test_more_than_250_quantities_in_one_call_are_refused(api: Api) -> None:
    api.control("POST", "seed", {"products": 1, "seed": 3})
    level = _level(api)
    big = _set_input(level, 1, None)
    big["quantities"] = big["quantities"] * 251
    body = api.graphql(SET % "big", input=big).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


def test_bulk_queries_write_jsonl_with_parent_ids(api: Api) -> None:
    api.control("POST", "seed", {"products": 4, "variants_per_product": 2, "seed": 5})
    run = api.graphql('mutation { bulkOperationRunQuery(query: "{ products { edges { node { '
                      'id variants { edges { node { id sku } } } } } } }") { bulkOperation '
                      "{ id status } userErrors { message } } }").json()
    op_id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        node = api.graphql("query($id: ID!) { node(id: $id) { ... on BulkOperation { status url "
                           "objectCount rootObjectCount } } }", id=op_id).json()["data"]["node"]
        if node["status"] == "COMPLETED":
            break
        time.sleep(0.05)
    assert (node["objectCount"], node["rootObjectCount"]) == ("12", "4")
    rows = [json.loads(line) for line in httpx.get(node["url"]).text.splitlines()]
    products = {r["id"] for r in rows if "__parentId" not in r}
    variants = [r for r in rows if "__parentId" in r]
    assert len(products) == 4 and len(variants) == 8
    assert {v["__parentId"] for v in variants} == products


def _subscribe(api: Api, receiver: Receiver) -> None:
    body = api.graphql("mutation($uri: String!) { webhookSubscriptionCreate(topic: "
                       "ORDERS_CREATE, webhookSubscription: {uri: $uri, format: JSON}) { "
                       "userErrors { message } } }", uri=receiver.url).json()
    assert body["data"]["webhookSubscriptionCreate"]["userErrors"] == []


def _sale(api: Api) -> dict:
    if not api.control("GET", "state")["levels"]:
        api.control("POST", "seed", {"products": 1, "variants_per_product": 1, "seed": 7})
    sku = _level(api)["sku"]
    return api.control("POST", "orders", {"lines": [{"sku": sku, "quantity": 1}]})


def test_deliveries_are_signed_and_retried_until_accepted(api: Api, sandbox: SandboxServer,
                                                          receiver: Receiver) -> None:
    _subscribe(api, receiver)
    receiver.statuses = [500, 503]
    _sale(api)
    receiver.wait_for(lambda got: len(got) == 3 and got[-1].status == 200)
    first, _, last = receiver.received
    assert first.headers["X-Shopify-Webhook-Id"] == last.headers["X-Shopify-Webhook-Id"]
    assert first.body == last.body
    assert last.headers["X-Shopify-Hmac-Sha256"] == sign(last.body, "sandbox-client-secret")
    assert last.headers["X-Shopify-Shop-Domain"] == "sandbox.myshopify.com"
    assert last.headers["X-Shopify-API-Version"] == "2026-04"
    outcomes = [d["outcome"] for d in api.control("GET", "deliveries")["log"]]
    assert outcomes == ["500", "503", "200"]


def test_a_subscription_is_removed_after_eight_failed_retries(receiver: Receiver) -> None:
    server = SandboxServer(Config(webhook_retry_base_s=0.002)).start()
    try:
        api = Api(server)
        _subscribe(api, receiver)
        receiver.statuses = [500] * 20
        _sale(api)
        receiver.wait_for(lambda got: len(got) == 9, timeout_s=20)
        deadline = time.monotonic() + 5
        while api.control("GET", "state")["subscriptions"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.control("GET", "state")["subscriptions"] == []
    finally:
        server.close()


def test_webhook_faults_duplicate_drop_and_reorder(api: Api, receiver: Receiver) -> None:
    _subscribe(api, receiver)
    api.control("POST", "faults", {"webhook_duplicate": 1})
    _sale(api)
    receiver.wait_for(lambda got: len(got) == 2)
    a, b = receiver.received
    assert a.headers["X-Shopify-Event-Id"] == b.headers["X-Shopify-Event-Id"]
    api.control("POST", "faults", {"webhook_drop": 1})
    _sale(api)
    time.sleep(0.3)
    assert len(receiver.received) == 2
    api.control("POST", "faults", {"webhook_delay": 1, "webhook_delay_s": 2.0})
    held, overtaking = _sale(api), _sale(api)
    receiver.wait_for(lambda got: len(got) == 4)
    names = [json.loads(r.body)["name"] for r in receiver.received[2:]]
    assert names == [overtaking["name"], held["name"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
def test_the_cli_command_serves_the_sandbox(tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, "STORESYNC_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "storesync.cli", "sandbox", "shopify", "--port", str(port),
         "--products", "2", "--plan", "advanced"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    body = None
    try:
        # Bounded: a loaded machine may take a while to import Django and bind the port.
        deadline = time.monotonic() + 90
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while body is None and process.poll() is None and time.monotonic() < deadline:
                try:
                    body = client.post(
                        f"http://127.0.0.1:{port}/admin/api/2026-04/graphql.json",
                        json={"query": "{ productsCount { count } }"},
                        headers={"X-Shopify-Access-Token": Config.access_token}).json()
                except httpx.HTTPError:
                    time.sleep(0.2)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert body is not None, err.decode()[-2000:]
    assert body["data"]["productsCount"]["count"] == 2
    assert body["extensions"]["cost"]["throttleStatus"]["restoreRate"] == 200.0
    assert b"access_token: shpat_sandbox_" in out


def test_control_endpoints_refuse_bad_input(api: Api) -> None:
    assert api.http.post("/_sandbox/faults", json={"nonsense": 1}).status_code == 400
    assert api.http.post("/_sandbox/faults", json={"latency_ms": -5}).status_code == 400
    assert api.http.post("/_sandbox/orders", json={"lines": [{"sku": "NOPE",
                                                              "quantity": 1}]}).status_code == 400
    assert api.http.post("/_sandbox/webhooks/trigger",
                         json={"topic": "customers/redact"}).status_code == 400
    assert api.http.get("/_sandbox/bulk/1.jsonl").status_code == 404
