"""Customer ``meta_data`` through ``PUT /customers/<id>`` as core's REST controller writes it:
one entry per key, protected keys skipped, malformed input refused before anything changes;
and private order notes that do not reach the buyer."""

from __future__ import annotations

from tests.channels.sandbox.woocommerce.conftest import KEY, SECRET

API = "/wp-json/wc/v3"
AUTH = (KEY, SECRET)


def _customer(control) -> dict:
    created = control.post(f"{API}/customers", auth=AUTH, json={
        "email": "asha@example.com", "first_name": "Asha"})
    assert created.status_code == 201, created.text
    return created.json()


def test_meta_is_one_entry_per_key_and_protected_keys_are_skipped(woo, control):
    customer = _customer(control)
    url = f"{API}/customers/{customer['id']}"
    first = control.put(url, auth=AUTH, json={"meta_data": [
        {"key": "storesync_privacy_restriction", "value": "restricted"},
        {"key": "_internal", "value": "x"}]})
    assert first.status_code == 200, first.text
    [meta] = first.json()["meta_data"]
    assert (meta["key"], meta["value"]) == ("storesync_privacy_restriction", "restricted")
    again = control.put(url, auth=AUTH, json={"meta_data": [
        {"key": "storesync_privacy_restriction", "value": "lifted"}]}).json()
    assert [(m["id"], m["value"]) for m in again["meta_data"]] == [(meta["id"], "lifted")]
    assert control.get(url, auth=AUTH).json()["meta_data"] == again["meta_data"]


def test_malformed_meta_is_refused_and_nothing_changes(woo, control):
    customer = _customer(control)
    url = f"{API}/customers/{customer['id']}"
    refused = control.put(url, auth=AUTH, json={"first_name": "Changed",
                                                "meta_data": [{"value": "no key"}]})
    assert refused.status_code == 400
    assert refused.json()["code"] == "rest_invalid_param"
    assert control.get(url, auth=AUTH).json()["first_name"] == "Asha"


def test_a_private_note_is_listed_as_internal(woo, control):
    woo.sandbox.store.seed_catalog(products=1, variable_every=0)
    product = next(iter(woo.sandbox.store.products))
    order = control.post("/_sandbox/orders", json={
        "line_items": [{"product_id": product, "quantity": 1}]}).json()
    note = control.post(f"{API}/orders/{order['id']}/notes", auth=AUTH,
                        json={"note": "restricted", "customer_note": False})
    assert note.status_code == 201
    internal = control.get(f"{API}/orders/{order['id']}/notes", auth=AUTH,
                           params={"type": "internal"}).json()
    assert "restricted" in [n["note"] for n in internal]
    customer = control.get(f"{API}/orders/{order['id']}/notes", auth=AUTH,
                           params={"type": "customer"}).json()
    assert customer == []
