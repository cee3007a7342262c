"""The WooCommerce simulator speaks REST v3 as documented, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time

import httpx

from storesync.channels.sandbox.woocommerce.server import start
from tests.channels.sandbox.woocommerce.conftest import KEY, SECRET, flush

API = "/wp-json/wc/v3"
AUTH = (KEY, SECRET)


def test_keys_by_basic_auth_or_query_string_and_documented_refusals(woo, control):
    assert control.get(f"{API}/products", auth=AUTH).status_code == 200
    by_query = control.get(f"{API}/products",
                           params={"consumer_key": KEY, "consumer_secret": SECRET})
    assert by_query.status_code == 200

    missing = control.get(f"{API}/products")
    assert missing.status_code == 401
    assert missing.json()["code"] == "woocommerce_rest_cannot_view"
    bad_key = control.get(f"{API}/products", auth=("ck_other", SECRET))
    assert bad_key.json() == {"code": "woocommerce_rest_authentication_error",
                              "message": "Consumer key is invalid.", "data": {"status": 401}}
    bad_secret = control.get(f"{API}/products", auth=(KEY, "cs_wrong"))
    assert bad_secret.json()["message"] == "Consumer secret is invalid."


def test_pages_carry_total_headers_and_links(woo, control):
    control.post("/_sandbox/seed", json={"products": 25, "variable_every": 0})
    first = control.get(f"{API}/products", params={"per_page": 10}, auth=AUTH)
    assert first.headers["X-WP-Total"] == "25" and first.headers["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    assert "prev" not in first.headers["Link"]
    last = control.get(f"{API}/products", params={"per_page": 10, "page": 3}, auth=AUTH)
    assert len(last.json()) == 5
    assert 'rel="prev"' in last.headers["Link"] and 'rel="next"' not in last.headers["Link"]
    too_many = control.get(f"{API}/products", params={"per_page": 101}, auth=AUTH)
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"


def test_a_batch_over_100_objects_is_refused_whole(woo, control):
    ids = control.post("/_sandbox/seed", json={"products": 101, "variable_every": 0}).json()
    before = {p["id"]: p["stock_quantity"] for p in woo.sandbox.store.products.values()}
    body = {"update": [{"id": pid, "stock_quantity": 500} for pid in ids["product_ids"]]}
    refused = control.post(f"{API}/products/batch", json=body, auth=AUTH)
    assert refused.status_code == 413
    assert refused.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert refused.json()["message"] == "Unable to accept more than 100 items for this request."
    after = {p["id"]: p["stock_quantity"] for p in woo.sandbox.store.products.values()}
    assert after == before  # nothing applied
    body["update"] = body["update"][:100]
    applied = control.post(f"{API}/products/batch", json=body, auth=AUTH).json()["update"]
    assert len(applied) == 100 and all(p["stock_quantity"] == 500 for p in applied)


def test_batch_items_fail_one_by_one(woo, control):
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    answer = control.post(f"{API}/products/batch", auth=AUTH, json={"update": [
        {"id": pid, "stock_quantity": 3}, {"id": 999999, "stock_quantity": 3}]}).json()
    assert answer["update"][0]["stock_quantity"] == 3
    assert answer["update"][1]["error"]["code"] == "woocommerce_rest_product_invalid_id"


def test_same_seed_same_catalog():
    first, second = start(seed=42), start(seed=42)
    try:
        for running in (first, second):
            running.sandbox.store.seed_catalog(products=12)
        names = [[(p["name"], p["sku"], p["regular_price"], p["stock_quantity"])
                  for p in r.sandbox.store.products.values()] for r in (first, second)]
        assert names[0] == names[1]
        variable = [p for p in first.sandbox.store.products.values() if p["type"] == "variable"]
        assert len(variable) == 4 and all(len(p["variations"]) == 3 for p in variable)
    finally:
        first.stop()
        second.stop()


def test_rate_limit_answers_429_with_retry_after(woo, control):
    control.post("/_sandbox/faults", json={"rate_limit": 0.5})
    statuses = [control.get(f"{API}/products", auth=AUTH) for _ in range(4)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1
    control.delete("/_sandbox/faults")
    assert control.get(f"{API}/products", auth=AUTH).status_code == 200


def test_error_bursts_latency_and_malformed_bodies(woo, control):
    control.post("/_sandbox/faults", json={"error_count": 2, "error_status": 503})
    assert [control.get(f"{API}/products", auth=AUTH).status_code for _ in range(3)] == [
        503, 503, 200]
    control.post("/_sandbox/faults", json={"error_count": 1, "error_status": 500})
    fatal = control.get(f"{API}/products", auth=AUTH)
    assert fatal.status_code == 500 and fatal.json()["code"] == "internal_server_error"
    control.post("/_sandbox/faults", json={"malformed_count": 1, "latency_ms": 150})
    started = time.monotonic()
    cut = control.get(f"{API}/settings/general/woocommerce_currency", auth=AUTH)
    assert time.monotonic() - started >= 0.15
    assert cut.status_code == 200
    try:
        json.loads(cut.content)
        raise AssertionError("the body should have been cut")
    except json.JSONDecodeError:
        pass


def _signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _hook(control, receiver, topic, secret="whsec-test"):
    created = control.post(f"{API}/webhooks", auth=AUTH, json={
        "name": "test", "topic": topic, "delivery_url": receiver.url, "secret": secret})
    assert created.status_code == 201
    return created.json()


def test_webhook_creation_pings_then_a_sale_is_delivered_signed(woo, control, receiver):
    hook = _hook(control, receiver, "order.created")
    assert receiver.received[0].body == f"webhook_id={hook['id']}".encode()
    assert "X-WC-Webhook-Signature" not in receiver.received[0].headers

    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    before = control.get(f"{API}/products/{pid}", auth=AUTH).json()["stock_quantity"]
    control.put(f"{API}/products/{pid}", auth=AUTH, json={"stock_quantity": before + 5})
    sale = control.post("/_sandbox/orders", json={"line_items": [
        {"product_id": pid, "quantity": 2}]}).json()
    flush(control)
    assert control.get(f"{API}/products/{pid}", auth=AUTH).json()["stock_quantity"] == (
        before + 3)
    (event,) = receiver.events()
    assert event.headers["X-WC-Webhook-Topic"] == "order.created"
    assert event.headers["X-WC-Webhook-Resource"] == "order"
    assert event.headers["X-WC-Webhook-Event"] == "created"
    assert event.headers["X-WC-Webhook-ID"] == str(hook["id"])
    assert event.headers["X-WC-Webhook-Source"] == woo.url + "/"
    assert event.headers["X-WC-Webhook-Signature"] == _signature(event.body, "whsec-test")
    assert json.loads(event.body)["id"] == sale["id"]


def test_core_failure_rule_disables_at_the_seventh_consecutive_failure(
        woo, control, receiver):
    hook = _hook(control, receiver, "order.updated")
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    order = control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}],
                                                   "status": "pending"}).json()
    receiver.status = 500

    def touch(times):
        for _ in range(times):
            control.put(f"{API}/orders/{order['id']}", auth=AUTH, json={"customer_note": "x"})
            flush(control)

    def state():
        return next(h for h in control.get("/_sandbox/state").json()["webhooks"]
                    if h["id"] == hook["id"])

    touch(6)
    assert state() == {**state(), "status": "active", "failure_count": 6}
    touch(1)
    assert state()["status"] == "disabled"
    touch(1)  # a disabled webhook delivers nothing
    assert len(receiver.events()) == 7

    control.put(f"{API}/webhooks/{hook['id']}", auth=AUTH, json={"status": "active"})
    receiver.status = 200
    touch(1)
    assert state() == {**state(), "status": "active", "failure_count": 0}


def test_dropped_duplicated_and_reordered_deliveries(woo, control, receiver):
    _hook(control, receiver, "order.created")
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]

    def sale():
        return control.post("/_sandbox/orders", json={
            "line_items": [{"product_id": pid}], "status": "pending"}).json()["id"]

    control.post("/_sandbox/faults", json={"webhook_drop": 1, "webhook_duplicate": 1})
    sale()  # dropped
    duplicated = sale()
    flush(control)
    bodies = [json.loads(d.body)["id"] for d in receiver.events()]
    assert bodies == [duplicated, duplicated]
    ids = [d.headers["X-WC-Webhook-Delivery-ID"] for d in receiver.events()]
    assert ids[0] == ids[1]

    control.post("/_sandbox/faults", json={"webhook_reorder": True})
    first, second = sale(), sale()
    flush(control)
    assert [json.loads(d.body)["id"] for d in receiver.events()[2:]] == [second, first]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_storesync_sandbox_woocommerce_command_serves(tmp_path):
    port = _free_port()
    command = [os.path.join(os.path.dirname(sys.executable), "storesync"), "sandbox",
               "woocommerce", "--port", str(port), "--products", "3",
               "--consumer-key", "ck_cli", "--consumer-secret", "cs_cli"]
    env = {**os.environ, "STORESYNC_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        answer = None
        while time.monotonic() < deadline and answer is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}{API}/products",
                                   auth=("ck_cli", "cs_cli"), timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None, process.stderr.read1().decode() if process.poll() else ""
        assert answer.status_code == 200 and len(answer.json()) == 3
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_skus_stay_unique_across_seedings_and_writes(woo, control):
    control.post("/_sandbox/seed", json={"products": 3, "variable_every": 3})
    control.post("/_sandbox/seed", json={"products": 3, "variable_every": 3})
    store = woo.sandbox.store
    skus = [x["sku"] for x in (*store.products.values(), *store.variations.values())]
    assert len(skus) == len(set(skus)) == 6 + 6
    duplicate = control.post(f"{API}/products", auth=AUTH, json={"name": "x", "sku": skus[0]})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "product_invalid_sku"


def test_one_delivery_per_resource_and_request(woo, control, receiver):
    _hook(control, receiver, "product.updated")
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    control.put(f"{API}/products/{pid}", auth=AUTH, json={"stock_quantity": 10})
    control.post("/_sandbox/orders", json={"line_items": [
        {"product_id": pid, "quantity": 1}, {"product_id": pid, "quantity": 2}]})
    flush(control)
    quantities = [json.loads(d.body)["stock_quantity"] for d in receiver.events()]
    assert quantities == [10, 7]  # the sale's two lines saved the product twice: one event


def test_the_command_refuses_a_non_loopback_address(tmp_path):
    command = [os.path.join(os.path.dirname(sys.executable), "storesync"), "sandbox",
               "woocommerce", "--port", str(_free_port()), "--host", "0.0.0.0"]
    done = subprocess.run(command, env={**os.environ, "STORESYNC_DATA_DIR": str(tmp_path)},
                          capture_output=True, timeout=60, check=False)
    assert done.returncode != 0
    assert b"loopback interface only" in done.stderr
    assert b"Traceback" not in done.stderr


def test_rate_limit_and_latency_options_apply_from_the_start():
    running = start(consumer_key=KEY, consumer_secret=SECRET, rate_limit=0.5, latency_ms=50)
    try:
        with httpx.Client(base_url=running.url, auth=AUTH, timeout=10) as client:
            started = time.monotonic()
            answers = [client.get(f"{API}/products").status_code for _ in range(3)]
            assert time.monotonic() - started >= 0.15
        assert answers[0] == 200 and 429 in answers
    finally:
        running.stop()


def test_orders_filter_on_creation_and_on_change(woo, control):
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    early = control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}],
                                                   "status": "pending"}).json()
    control.post("/_sandbox/clock", json={"advance_s": 60})
    late = control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}],
                                                  "status": "pending"}).json()
    control.put(f"{API}/orders/{early['id']}", auth=AUTH, json={"status": "on-hold"})

    def ids(**params):
        answer = control.get(f"{API}/orders", params=params, auth=AUTH)
        return sorted(o["id"] for o in answer.json())

    assert ids(after=early["date_created_gmt"]) == [late["id"]]
    assert ids(modified_after=early["date_created_gmt"]) == sorted([early["id"], late["id"]])
    assert ids(before=late["date_created_gmt"]) == [early["id"]]
    assert ids(status="on-hold") == [early["id"]]


def test_variations_are_listed_by_parent_and_a_new_one_is_its_own_created_event(
        woo, control, receiver):
    _hook(control, receiver, "product.created")
    parent = control.post(f"{API}/products", auth=AUTH, json={
        "name": "Kurta", "type": "variable",
        "attributes": [{"name": "Size", "variation": True, "options": ["S", "M"]}]}).json()
    assert parent["variations"] == []
    made = control.post(f"{API}/products/{parent['id']}/variations", auth=AUTH, json={
        "sku": "KURTA-S", "regular_price": "899.00", "manage_stock": True,
        "stock_quantity": 4, "attributes": [{"name": "Size", "option": "S"}]})
    assert made.status_code == 201 and made.json()["stock_quantity"] == 4
    unmanaged = control.post(f"{API}/products/{parent['id']}/variations", auth=AUTH,
                             json={"sku": "KURTA-M", "stock_quantity": 9})
    assert unmanaged.json()["stock_quantity"] is None  # core clears it without manage_stock
    duplicate = control.post(f"{API}/products/{parent['id']}/variations", auth=AUTH,
                             json={"sku": "KURTA-S"})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "product_invalid_sku"
    orphan = control.post(f"{API}/products/999999/variations", auth=AUTH, json={"sku": "X"})
    assert orphan.status_code == 404
    flush(control)

    bodies = [json.loads(d.body) for d in receiver.events()]
    assert [(b["id"], b.get("type")) for b in bodies] == [
        (parent["id"], "variable"), (made.json()["id"], "variation"),
        (unmanaged.json()["id"], "variation")]
    assert bodies[1]["parent_id"] == parent["id"] and bodies[1]["sku"] == "KURTA-S"

    listed = control.get(f"{API}/products/{parent['id']}/variations", auth=AUTH)
    assert [v["sku"] for v in listed.json()] == ["KURTA-S", "KURTA-M"]
    assert listed.headers["X-WP-Total"] == "2"
    # Core queries variations by post parent: no product (or a simple one) has none.
    for other in (999999, control.post(f"{API}/products", auth=AUTH,
                                       json={"name": "Tee"}).json()["id"]):
        empty = control.get(f"{API}/products/{other}/variations", auth=AUTH)
        assert empty.status_code == 200 and empty.json() == []
        assert empty.headers["X-WP-Total"] == "0"
