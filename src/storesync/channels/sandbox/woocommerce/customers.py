"""Customers of the simulated store (REST API v3 ``/customers``), as core's
``WC_REST_Customers_Controller`` answers:

- ``POST /customers``: ``email`` required and unique (400 ``registration-error-email-exists``),
  ``first_name``, ``last_name``, ``username``, ``billing``, ``shipping``; role ``customer``.
- ``GET /customers``: ``email``, ``role`` (default ``customer``; ``all``), ``include``, paged.
- ``GET|PUT /customers/<id>``: unknown id -> 404 ``woocommerce_rest_invalid_id``. ``PUT``
  also writes ``meta_data`` (a list of ``{"key", "value"}``, optionally ``"id"``) as
  ``WC_REST_Customers_V2_Controller::update_customer_meta_fields`` does: a protected key
  (starting with ``_``) is skipped without an error, an entry with an ``id`` updates that
  entry, one without replaces every entry of its key by one (``WC_Data::update_meta_data``);
  anything but a list of objects with a string ``key`` is 400 ``rest_invalid_param``.
- ``DELETE /customers/<id>``: only with ``force=true`` ("Customers do not support trashing.",
  501 ``woocommerce_rest_trash_not_supported``); answers the deleted customer. The user's
  orders stay, as deleting a WordPress user leaves them.
"""

from __future__ import annotations

import re
from typing import Any

from storesync.channels.sandbox.woocommerce.state import Json, Store, StoreError

BILLING = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state",
           "postcode", "country", "email", "phone")
SHIPPING = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state",
            "postcode", "country", "phone")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _address(keys: tuple[str, ...], given: Any, current: Json | None = None) -> Json:
    out = dict(current or dict.fromkeys(keys, ""))
    if isinstance(given, dict):
        out.update({k: str(v) for k, v in given.items() if k in keys})
    return out


def _email(value: Any) -> str:
    email = str(value or "").strip()
    if not EMAIL.fullmatch(email):
        raise StoreError("rest_invalid_param", "Invalid parameter(s): email", 400)
    return email


def get(store: Store, customer_id: int) -> Json:
    found = store.customers.get(customer_id)
    if found is None:
        raise StoreError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404)
    return found


def _taken(store: Store, email: str, other_than: int = 0) -> None:
    if any(c["email"].lower() == email.lower() and c["id"] != other_than
           for c in store.customers.values()):
        raise StoreError("registration-error-email-exists",
                         "An account is already registered with your email address.", 400)


def create(store: Store, data: Json) -> Json:
    with store.lock:
        email = _email(data.get("email"))
        _taken(store, email)
        stamp = store.stamp()
        customer: Json = {
            "id": store.new_id(), "date_created": stamp, "date_created_gmt": stamp,
            "date_modified": stamp, "date_modified_gmt": stamp, "email": email,
            "first_name": str(data.get("first_name") or ""),
            "last_name": str(data.get("last_name") or ""), "role": "customer",
            "username": str(data.get("username") or email.split("@")[0]),
            "billing": _address(BILLING, data.get("billing")),
            "shipping": _address(SHIPPING, data.get("shipping")),
            "is_paying_customer": False, "avatar_url": "", "meta_data": [],
        }
        store.customers[customer["id"]] = customer
        return customer


def update(store: Store, customer_id: int, data: Json) -> Json:
    with store.lock:
        customer = get(store, customer_id)
        # Parameters are checked before anything is written, as the REST schema is.
        meta = _meta(store, customer["meta_data"], data["meta_data"]) \
            if "meta_data" in data else None
        if "email" in data:
            email = _email(data["email"])
            _taken(store, email, customer_id)
            customer["email"] = email
        for key in ("first_name", "last_name"):
            if key in data:
                customer[key] = str(data[key] or "")
        if "billing" in data:
            customer["billing"] = _address(BILLING, data["billing"], customer["billing"])
        if "shipping" in data:
            customer["shipping"] = _address(SHIPPING, data["shipping"], customer["shipping"])
        if meta is not None:
            customer["meta_data"] = meta
        customer["date_modified"] = customer["date_modified_gmt"] = store.stamp()
        return customer


def _meta(store: Store, current: list[Json], given: Any) -> list[Json]:
    if not isinstance(given, list) or not all(
            isinstance(m, dict) and isinstance(m.get("key"), str) for m in given):
        raise StoreError("rest_invalid_param", "Invalid parameter(s): meta_data", 400)
    out = [dict(m) for m in current]
    for meta in given:
        key = meta["key"]
        if key.startswith("_"):  # is_protected_meta(): internal keys are not the API's
            continue
        by_id = next((m for m in out if "id" in meta and m["id"] == meta["id"]), None)
        if by_id is not None:
            by_id.update(key=key, value=meta.get("value"))
            continue
        same = [m for m in out if m["key"] == key]
        if same:
            same[0]["value"] = meta.get("value")
            out = [m for m in out if m["key"] != key or m is same[0]]
        else:
            out.append({"id": store.new_id(), "key": key, "value": meta.get("value")})
    return out


def delete(store: Store, customer_id: int, force: bool) -> Json:
    with store.lock:
        customer = get(store, customer_id)
        if not force:
            raise StoreError("woocommerce_rest_trash_not_supported",
                             "Customers do not support trashing.", 501)
        del store.customers[customer_id]
        return customer


def listed(store: Store, query: dict[str, str]) -> list[Json]:
    role = query.get("role", "customer")
    email = query.get("email", "").strip().lower()
    with store.lock:
        return [c for c in store.customers.values()
                if (role == "all" or c["role"] == role)
                and (not email or c["email"].lower() == email)]
