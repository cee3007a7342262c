"""Order import, refunds and fulfillments against the WooCommerce simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storesync.channels.connectors.base import FulfillmentPush

API = "/wp-json/wc/v3"


def _catalog(control, products=2):
    return control.post("/_sandbox/seed", json={"products": products,
                                                "variable_every": 0}).json()["product_ids"]


def _sale(control, lines, **extra):
    answer = control.post("/_sandbox/orders", json={"line_items": lines, **extra})
    assert answer.status_code == 201
    return answer.json()


def _all_orders(connector, since=None):
    found, cursor = [], None
    for _ in range(50):  # bounded walk
        page = connector.import_orders(updated_since=since, cursor=cursor)
        found.extend(page.orders)
        cursor = page.next_cursor
        if cursor is None:
            return found
    raise AssertionError("the cursor never ended")


def test_orders_map_lines_money_address_and_payment(woo, control, connector):
    a, b = _catalog(control)
    price_a = woo.sandbox.store.products[a]["regular_price"]
    sale = _sale(control, [{"product_id": a, "quantity": 2}, {"product_id": b}],
                 billing={"first_name": "Asha", "last_name": "Rao",
                          "email": "asha@example.com", "phone": "+919800000000",
                          "address_1": "12 MG Road", "city": "Bengaluru",
                          "state": "KA", "postcode": "560001", "country": "IN"},
                 shipping_lines=[{"method_id": "flat_rate", "total": "49.50"}])
    (order,) = _all_orders(connector)
    assert order.external_id == str(sale["id"]) and order.name == f"#{sale['id']}"
    assert order.currency == "INR" and order.financial_status == "paid"
    assert order.email == "asha@example.com"
    assert order.shipping_address.city == "Bengaluru"
    assert order.shipping_address.province_code == "KA"
    assert order.shipping_minor == 4950
    first = order.lines[0]
    assert (first.quantity, first.unit_price_minor) == (2, int(price_a.replace(".", "")))
    assert first.sku == woo.sandbox.store.products[a]["sku"]
    assert order.payments[0].kind == "sale"
    assert order.payments[0].amount_minor == int(sale["total"].replace(".", ""))
    assert order.created_at.tzinfo is not None


def test_import_orders_from_modified_after(woo, control, connector):
    (pid,) = _catalog(control, 1)
    old = [_sale(control, [{"product_id": pid}], status="pending")["id"] for _ in range(3)]
    control.post("/_sandbox/clock", json={"advance_s": 3600})
    since = datetime.now(UTC) + timedelta(minutes=30)
    new = [_sale(control, [{"product_id": pid}], status="pending")["id"] for _ in range(2)]
    assert sorted(int(o.external_id) for o in _all_orders(connector, since)) == new
    assert len(_all_orders(connector)) == len(old) + len(new)
    calls = control.get("/_sandbox/state").json()["calls"]
    assert "GET /wp-json/wc/v3/orders" in calls


def test_order_pages_lose_nothing_when_an_order_changes_mid_walk(woo, control, connector):
    (pid,) = _catalog(control, 1)
    ids = [_sale(control, [{"product_id": pid}], status="pending")["id"] for _ in range(120)]
    first = connector.import_orders(updated_since=None, cursor=None)
    assert len(first.orders) == 50 and first.next_cursor
    # An order already read changes: it moves to the end, nothing else may be skipped.
    control.post("/_sandbox/clock", json={"advance_s": 5})
    control.put(f"{API}/orders/{ids[0]}", json={"status": "on-hold"},
                auth=(woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret))
    seen = [o.external_id for o in first.orders]
    cursor = first.next_cursor
    for _ in range(10):
        page = connector.import_orders(updated_since=None, cursor=cursor)
        seen.extend(o.external_id for o in page.orders)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert set(seen) == {str(i) for i in ids}
    assert seen.count(str(ids[0])) == 2  # again, in its new state


def test_refunds_with_and_without_restock(woo, control, connector):
    a, b = _catalog(control)
    sale = _sale(control, [{"product_id": a, "quantity": 2}, {"product_id": b, "quantity": 1}])
    line_a, line_b = (line["id"] for line in sale["line_items"])
    auth = (woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret)
    stock_a = woo.sandbox.store.products[a]["stock_quantity"]
    restocked = control.post(f"{API}/orders/{sale['id']}/refunds", auth=auth, json={
        "amount": "10.00", "api_refund": True, "api_restock": True,
        "line_items": [{"id": line_a, "quantity": 1, "refund_total": "10.00"}]})
    assert restocked.status_code == 201
    kept = control.post(f"{API}/orders/{sale['id']}/refunds", auth=auth, json={
        "amount": "5.00", "api_refund": False, "api_restock": False,
        "line_items": [{"id": line_b, "quantity": 1, "refund_total": "5.00"}]})
    assert kept.status_code == 201
    assert woo.sandbox.store.products[a]["stock_quantity"] == stock_a + 1

    (order,) = _all_orders(connector)
    assert order.financial_status == "partially_refunded"
    first, second = order.refunds
    assert (first.amount_minor, second.amount_minor) == (1000, 500)
    assert [(ln.line_external_id, ln.quantity, ln.restock) for ln in first.lines] == [
        (str(line_a), 1, True)]
    assert [(ln.line_external_id, ln.quantity, ln.restock) for ln in second.lines] == [
        (str(line_b), 1, False)]
    # Only the refund sent through the gateway is a payment movement.
    assert [(p.kind, p.amount_minor) for p in order.payments] == [
        ("sale", int(sale["total"].replace(".", ""))), ("refund", 1000)]


def test_cancelled_order_is_marked(woo, control, connector):
    (pid,) = _catalog(control, 1)
    sale = _sale(control, [{"product_id": pid}])
    auth = (woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret)
    control.put(f"{API}/orders/{sale['id']}", auth=auth, json={"status": "cancelled"})
    (order,) = _all_orders(connector)
    assert order.cancelled_at is not None and order.financial_status == "voided"


def test_fulfillment_is_a_note_and_completes_when_all_lines_shipped(woo, control, connector):
    a, b = _catalog(control)
    sale = _sale(control, [{"product_id": a, "quantity": 2}, {"product_id": b}])
    line_a, line_b = (str(line["id"]) for line in sale["line_items"])
    first = connector.push_fulfillment(FulfillmentPush(
        str(sale["id"]), lines=((line_a, 2),), carrier="Delhivery", tracking_number="DL123",
        tracking_url="https://track.example.com/DL123"))
    order = woo.sandbox.store.orders[sale["id"]]
    assert order["status"] == "processing"  # one line still to ship
    note = next(n for n in woo.sandbox.store.notes[sale["id"]] if n["id"] == int(first))
    assert "Delhivery" in note["note"] and "DL123" in note["note"] and note["customer_note"]

    connector.push_fulfillment(FulfillmentPush(str(sale["id"]), lines=(),
                                               carrier="Delhivery", tracking_number="DL124",
                                               notify_customer=False))
    assert order["status"] == "completed" and order["date_completed_gmt"]
    last = woo.sandbox.store.notes[sale["id"]][-2]  # the status change note follows it
    assert f"{line_b}x1" in last["note"] and not last["customer_note"]


def test_fetch_order_reads_one_order_with_its_refunds(woo, control, connector):
    (pid,) = _catalog(control, 1)
    sale = _sale(control, [{"product_id": pid, "quantity": 2}])
    control.post(f"{API}/orders/{sale['id']}/refunds", json={
        "line_items": [{"id": sale["line_items"][0]["id"], "quantity": 2,
                        "refund_total": sale["total"]}]},
        auth=(woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret))
    order = connector.fetch_order(str(sale["id"]))
    assert order.financial_status == "refunded"
    (refund,) = order.refunds
    assert refund.amount_minor == int(sale["total"].replace(".", ""))
    assert [(ln.quantity, ln.restock) for ln in refund.lines] == [(2, True)]
