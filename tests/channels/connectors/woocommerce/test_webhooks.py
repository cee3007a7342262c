"""Webhook subscriptions and verification against deliveries the simulator really sent."""

from __future__ import annotations

import json

import pytest

from storesync.channels.connectors.base import (
    ChannelLevel,
    ChannelProduct,
    InvalidWebhook,
    Rejected,
    Topic,
)
from storesync.channels.connectors.woocommerce.webhooks import SUBSCRIBED
from tests.channels.connectors.woocommerce.conftest import WEBHOOK_SECRET, connect
from tests.channels.sandbox.woocommerce.conftest import flush

API = "/wp-json/wc/v3"


def _auth(woo):
    return (woo.sandbox.store.consumer_key, woo.sandbox.store.consumer_secret)


def _verify(connector, delivery, secret=WEBHOOK_SECRET):
    return connector.verify_webhook(headers=delivery.headers, body=delivery.body,
                                    secret=secret)


def test_subscriptions_are_created_once_with_a_ping_each(woo, connector, receiver):
    subscriptions = connector.ensure_subscriptions(address=receiver.url)
    assert sorted(s.platform_topic for s in subscriptions) == sorted(SUBSCRIBED)
    assert all(s.active and s.address == receiver.url for s in subscriptions)
    pings = [d for d in receiver.received if d.body.startswith(b"webhook_id=")]
    assert len(pings) == len(SUBSCRIBED)
    ping = _verify(connector, pings[0])
    assert ping.topic is Topic.PING and ping.event_id.startswith("ping:")

    again = connector.ensure_subscriptions(address=receiver.url)
    assert {s.external_id for s in again} == {s.external_id for s in subscriptions}
    assert len(connector.list_subscriptions()) == len(SUBSCRIBED)


def test_every_topic_is_verified_and_mapped(woo, control, connector, receiver):
    connector.ensure_subscriptions(address=receiver.url)
    auth = _auth(woo)
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    sale = control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}]}).json()
    control.put(f"{API}/orders/{sale['id']}", auth=auth, json={"status": "completed"})
    control.put(f"{API}/orders/{sale['id']}", auth=auth, json={"status": "cancelled"})
    control.delete(f"{API}/orders/{sale['id']}", params={"force": "true"}, auth=auth)
    control.put(f"{API}/products/{pid}", auth=auth, json={"name": "Renamed"})
    control.delete(f"{API}/products/{pid}", params={"force": "true"}, auth=auth)
    flush(control)

    events = [_verify(connector, d) for d in receiver.events()]
    seen = [(e.platform_topic, e.topic, e.resource_id) for e in events]
    # A stock change saves the product in core: the sale and the cancellation each bring a
    # product.updated carrying the new quantity.
    assert seen == [
        ("product.created", Topic.PRODUCT_UPDATED, str(pid)),
        ("order.created", Topic.ORDER_CREATED, str(sale["id"])),
        ("product.updated", Topic.PRODUCT_UPDATED, str(pid)),  # the sale took one
        ("order.updated", Topic.ORDER_UPDATED, str(sale["id"])),
        ("product.updated", Topic.PRODUCT_UPDATED, str(pid)),  # the cancellation gave it back
        ("order.updated", Topic.ORDER_CANCELLED, str(sale["id"])),
        ("order.deleted", Topic.ORDER_CANCELLED, str(sale["id"])),
        ("product.updated", Topic.PRODUCT_UPDATED, str(pid)),
        ("product.deleted", Topic.PRODUCT_DELETED, str(pid)),
    ]
    assert events[2].payload["stock_quantity"] + 1 == events[4].payload["stock_quantity"]
    assert {e.topic for e in events} >= set(connector.topics)
    assert events[1].payload["line_items"][0]["product_id"] == pid
    assert events[1].occurred_at is not None
    assert len({e.event_id for e in events}) == len(events)


def test_bad_signatures_are_refused(woo, control, connector, receiver):
    connector.ensure_subscriptions(address=receiver.url)
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}]})
    flush(control)
    delivery = next(d for d in receiver.events()
                    if d.headers["X-WC-Webhook-Topic"] == "order.created")
    assert _verify(connector, delivery).topic is Topic.ORDER_CREATED

    with pytest.raises(InvalidWebhook) as wrong_secret:
        _verify(connector, delivery, secret="another-secret")
    assert wrong_secret.value.status == 401
    tampered = json.loads(delivery.body)
    tampered["total"] = "0.01"
    with pytest.raises(InvalidWebhook) as changed:
        connector.verify_webhook(headers=delivery.headers, secret=WEBHOOK_SECRET,
                                 body=json.dumps(tampered).encode())
    assert changed.value.status == 401
    unsigned = {k: v for k, v in delivery.headers.items() if k != "X-WC-Webhook-Signature"}
    with pytest.raises(InvalidWebhook) as missing:
        connector.verify_webhook(headers=unsigned, body=delivery.body, secret=WEBHOOK_SECRET)
    assert missing.value.status == 401


def test_a_duplicated_delivery_has_one_event_id(woo, control, connector, receiver):
    connector.ensure_subscriptions(address=receiver.url)
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    flush(control)
    receiver.received.clear()
    control.post("/_sandbox/faults", json={"webhook_duplicate": 1})
    control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}],
                                           "status": "pending"})
    flush(control)
    created = [_verify(connector, d) for d in receiver.events()
               if d.headers["X-WC-Webhook-Topic"] == "order.created"]
    assert len(created) == 2 and created[0].event_id == created[1].event_id


def test_disabled_after_failed_deliveries_then_reactivated(woo, control, connector, receiver):
    connector.ensure_subscriptions(address=receiver.url)
    pid = control.post("/_sandbox/seed", json={"products": 1, "variable_every": 0}).json()[
        "product_ids"][0]
    sale = control.post("/_sandbox/orders", json={"line_items": [{"product_id": pid}],
                                                  "status": "pending"}).json()
    flush(control)
    receiver.status = 503
    for note in range(7):  # core: disabled at the 7th consecutive failure (count > 5)
        control.put(f"{API}/orders/{sale['id']}", auth=_auth(woo),
                    json={"customer_note": f"change {note}"})
        flush(control)
    updated = next(s for s in connector.list_subscriptions()
                   if s.platform_topic == "order.updated")
    assert not updated.active

    receiver.status = 200
    again = connector.ensure_subscriptions(address=receiver.url)
    assert all(s.active for s in again)
    assert next(s for s in again if s.platform_topic == "order.updated").external_id == (
        updated.external_id)
    receiver.received.clear()
    control.put(f"{API}/orders/{sale['id']}", auth=_auth(woo), json={"customer_note": "ok"})
    flush(control)
    (delivered,) = receiver.events()
    assert _verify(connector, delivered).topic is Topic.ORDER_UPDATED
    state = control.get("/_sandbox/state").json()["webhooks"]
    assert next(h for h in state if h["topic"] == "order.updated")["failure_count"] == 0


def test_a_variation_sold_arrives_as_its_own_product_update(woo, control, connector, receiver):
    control.post("/_sandbox/seed", json={"products": 3, "variable_every": 3})
    parent = next(p for p in woo.sandbox.store.products.values() if p["type"] == "variable")
    variation_id = parent["variations"][1]
    connector.ensure_subscriptions(address=receiver.url)
    control.post("/_sandbox/orders", json={"line_items": [
        {"product_id": parent["id"], "variation_id": variation_id}]})
    flush(control)
    (update,) = [_verify(connector, d) for d in receiver.events()
                 if d.headers["X-WC-Webhook-Topic"] == "product.updated"]
    assert update.payload["type"] == "variation"
    assert update.resource_id == f"{parent['id']}/{variation_id}"
    (level,) = connector.fetch_levels([update.resource_id])
    assert level.available == update.payload["stock_quantity"]


def test_subscribing_without_the_webhook_secret_is_refused(woo, receiver):
    with pytest.raises(Rejected, match="webhook_secret"):
        connect(woo, webhook_secret="").ensure_subscriptions(address=receiver.url)
    assert receiver.received == []


def test_product_bodies_are_read_as_products_with_their_stock(woo, control, connector,
                                                              receiver):
    connector.ensure_subscriptions(address=receiver.url)
    simple_id, parent_id = control.post("/_sandbox/seed", json={
        "products": 2, "variable_every": 2}).json()["product_ids"]
    store = woo.sandbox.store
    vids = store.products[parent_id]["variations"]
    control.put(f"{API}/products/{parent_id}/variations/{vids[0]}", auth=_auth(woo),
                json={"sku": "RENAMED-S"})
    flush(control)
    simple_created, parent_created, variation_updated = [
        _verify(connector, d) for d in receiver.events()]

    simple = connector.parse_event(simple_created)
    assert isinstance(simple, ChannelProduct) and simple.complete
    [only] = simple.variants
    assert (only.external_id, only.inventory_item_id) == (str(simple_id), str(simple_id))
    assert simple.levels == (ChannelLevel(str(simple_id), "default",
                                          store.products[simple_id]["stock_quantity"],
                                          sku=only.sku),)

    # The parent names its variations by id; they are read now (the rename shows).
    assert parent_created.payload["variations"] == vids
    parent = connector.parse_event(parent_created)
    assert isinstance(parent, ChannelProduct) and parent.complete
    assert [v.external_id for v in parent.variants] == [str(v) for v in vids]
    assert [v.inventory_item_id for v in parent.variants] == [f"{parent_id}/{v}" for v in vids]
    assert parent.variants[0].sku == "RENAMED-S"
    assert all(v.updated_at is not None for v in parent.variants)
    assert {lv.inventory_item_id: lv.available for lv in parent.levels} == {
        f"{parent_id}/{v}": store.variations[v]["stock_quantity"] for v in vids}

    # A variation's own body: its parent naming that variation alone.
    variation = connector.parse_event(variation_updated)
    assert isinstance(variation, ChannelProduct) and not variation.complete
    [named] = variation.variants
    assert (variation.external_id, named.external_id, named.sku) == (
        str(parent_id), str(vids[0]), "RENAMED-S")
    assert named.updated_at is not None
    assert [lv.inventory_item_id for lv in variation.levels] == [f"{parent_id}/{vids[0]}"]
