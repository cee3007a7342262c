"""The simulated store: products, variations, orders, refunds, notes and webhooks in memory.

Objects are kept as the JSON dictionaries WooCommerce REST API v3 returns (field names and
types from the v3 reference: money as decimal strings, dates as ``YYYY-MM-DDTHH:MM:SS`` in
the site's timezone and ``*_gmt`` in UTC; the simulated site runs on UTC, so both agree).
Every change goes through a method here under one lock; the HTTP layer only reads and calls.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

Json = dict[str, Any]
# (topic, resource id or ping) -> queued for delivery by ``webhooks.Dispatcher``
Emit = Callable[[str, int], None]

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed")
WEBHOOK_STATUSES = ("active", "paused", "disabled")
WEBHOOK_TOPICS = tuple(f"{resource}.{event}"
                       for resource in ("order", "product", "customer", "coupon")
                       for event in ("created", "updated", "deleted", "restored"))


class StoreError(Exception):
    """A refusal shaped like WooCommerce's ``WP_Error``: code, message, HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass
class Store:
    """One WooCommerce site. ``emit`` is told about every event a webhook could carry."""

    name: str = "Sandbox Store"
    currency: str = "INR"
    consumer_key: str = "ck_sandbox"
    consumer_secret: str = "cs_sandbox"
    seed: int = 0
    emit: Emit = lambda topic, resource_id: None
    clock_offset_s: float = 0.0
    products: dict[int, Json] = field(default_factory=dict)
    variations: dict[int, Json] = field(default_factory=dict)  # id -> variation (parent_id)
    orders: dict[int, Json] = field(default_factory=dict)
    refunds: dict[int, list[Json]] = field(default_factory=dict)  # order id -> refunds
    notes: dict[int, list[Json]] = field(default_factory=dict)  # order id -> notes
    webhooks: dict[int, Json] = field(default_factory=dict)
    customers: dict[int, Json] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_id: int = 100

    # --- clock and ids ----------------------------------------------------------------

    def now(self) -> datetime:
        return (datetime.now(UTC) + timedelta(seconds=self.clock_offset_s)).replace(
            microsecond=0)

    def stamp(self) -> str:
        return self.now().strftime("%Y-%m-%dT%H:%M:%S")

    def new_id(self) -> int:
        # WordPress posts and order items share increasing integer ids.
        self._next_id += 1
        return self._next_id

    def _dates(self, obj: Json, *, created: bool) -> None:
        stamp = self.stamp()
        if created:
            obj["date_created"] = obj["date_created_gmt"] = stamp
        obj["date_modified"] = obj["date_modified_gmt"] = stamp

    # --- catalog ----------------------------------------------------------------------

    def seed_catalog(self, *, products: int, variable_every: int = 3,
                     seed: int | None = None) -> list[int]:
        """Add ``products`` products; every ``variable_every``-th one is variable with sizes.
        Same seed, same catalog (names, SKUs, prices, stock)."""
        rng = random.Random(self.seed if seed is None else seed)  # noqa: S311 (demo data)
        adjectives = ("Cotton", "Linen", "Silk", "Khadi", "Denim", "Wool", "Jute", "Bamboo")
        nouns = ("Kurta", "Saree", "Shirt", "Scarf", "Tote", "Dupatta", "Jacket", "Shawl")
        created = []
        with self.lock:
            first = len(self.products) + 1  # a second seeding continues the numbering
            for number in range(first, first + products):
                title = f"{rng.choice(adjectives)} {rng.choice(nouns)} {number}"
                price = Decimal(rng.randrange(199, 4999)) + Decimal("0.00")
                sku = f"SB-{number:05d}"
                if variable_every and number % variable_every == 0:
                    sizes = ("S", "M", "L")
                    created.append(self.create_product({
                        "name": title, "type": "variable", "sku": sku,
                        "attributes": [{"name": "Size", "variation": True,
                                        "options": list(sizes)}],
                    }, variations=[{
                        "sku": f"{sku}-{size}", "regular_price": money(price),
                        "manage_stock": True, "stock_quantity": rng.randrange(0, 40),
                        "attributes": [{"name": "Size", "option": size}],
                    } for size in sizes]))
                else:
                    created.append(self.create_product({
                        "name": title, "type": "simple", "sku": sku,
                        "regular_price": money(price), "manage_stock": True,
                        "stock_quantity": rng.randrange(0, 40),
                    }))
        return created

    def _check_sku(self, sku: str, own_id: int = 0) -> None:
        """SKUs are unique across products and variations (``wc_product_has_unique_sku``)."""
        if not sku:
            return
        taken = [x["id"] for x in (*self.products.values(), *self.variations.values())
                 if x["sku"] == sku and x["id"] != own_id]
        if taken:
            raise StoreError("product_invalid_sku", "Invalid or duplicated SKU.", 400)

    def create_product(self, data: Json, *, variations: Sequence[Json] = ()) -> int:
        with self.lock:
            self._check_sku(str(data.get("sku") or ""))
            for spec in variations:
                self._check_sku(str(spec.get("sku") or ""))
            pid = self.new_id()
            name = str(data.get("name") or f"Product {pid}")
            product: Json = {
                "id": pid, "name": name, "slug": name.lower().replace(" ", "-"),
                "permalink": f"http://sandbox.example.com/product/{pid}/",
                "type": data.get("type", "simple"), "status": data.get("status", "publish"),
                "description": data.get("description", ""), "short_description": "",
                "sku": data.get("sku", ""), "price": data.get("regular_price", ""),
                "regular_price": data.get("regular_price", ""), "sale_price": "",
                "manage_stock": bool(data.get("manage_stock", False)),
                "stock_quantity": data.get("stock_quantity"), "stock_status": "instock",
                "weight": data.get("weight", ""), "tags": data.get("tags", []),
                "categories": [], "attributes": data.get("attributes", []),
                "variations": [], "meta_data": [],
            }
            self._dates(product, created=True)
            self._stock_status(product)
            self.products[pid] = product
            for spec in variations:
                self._create_variation(product, spec)
            self.emit("product.created", pid)
            return pid

    def create_variation(self, product_id: int, spec: Json) -> Json:
        """``POST /products/<id>/variations``: core saves the variation and fires
        ``woocommerce_new_product_variation``, which ``product.created`` listens to, so the
        webhook carries the variation itself (``type: variation``)."""
        with self.lock:
            parent = self.products.get(product_id)
            if parent is None:
                raise StoreError("woocommerce_rest_product_variation_invalid_parent",
                                 "Invalid parent product.", 404)
            self._check_sku(str(spec.get("sku") or ""))
            quantity = spec.get("stock_quantity")
            if quantity is not None and (not isinstance(quantity, int)
                                         or isinstance(quantity, bool)):
                raise StoreError("rest_invalid_param",
                                 "Invalid parameter(s): stock_quantity", 400)
            vid = self._create_variation(parent, spec)
            self.emit("product.created", vid)
            return self.variations[vid]

    def _create_variation(self, parent: Json, spec: Json) -> int:
        vid = self.new_id()
        managed = bool(spec.get("manage_stock", False))
        variation: Json = {
            "id": vid, "parent_id": parent["id"], "sku": spec.get("sku", ""),
            "status": "publish", "price": spec.get("regular_price", ""),
            "regular_price": spec.get("regular_price", ""), "sale_price": "",
            "manage_stock": managed,
            # Core clears the quantity of a variation that does not manage stock.
            "stock_quantity": spec.get("stock_quantity") if managed else None,
            "stock_status": "instock",
            "weight": spec.get("weight", ""), "attributes": spec.get("attributes", []),
            "meta_data": [],
        }
        self._dates(variation, created=True)
        self._stock_status(variation)
        self.variations[vid] = variation
        parent["variations"].append(vid)
        return vid

    @staticmethod
    def _stock_status(item: Json) -> None:
        # With stock managed, WooCommerce derives stock_status from the quantity
        # (wc_update_product_stock_status); without, the merchant sets it.
        if item["manage_stock"] and item["stock_quantity"] is not None:
            item["stock_status"] = "instock" if item["stock_quantity"] > 0 else "outofstock"

    def item(self, product_id: int, variation_id: int = 0) -> Json:
        """The product or variation that holds the stock of an order line."""
        if variation_id:
            found = self.variations.get(variation_id)
            if found is None or found["parent_id"] != product_id:
                raise StoreError("woocommerce_rest_invalid_variation_id",
                                 "Invalid or duplicated ID.", 400)
            return found
        if product_id not in self.products:
            raise StoreError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
        return self.products[product_id]

    def update_item(self, item: Json, changes: Json) -> Json:
        """Apply the writable fields the connector uses (stock, status, prices, name)."""
        with self.lock:
            if "stock_quantity" in changes:
                quantity = changes["stock_quantity"]
                if not isinstance(quantity, int) or isinstance(quantity, bool):
                    raise StoreError("rest_invalid_param",
                                     "Invalid parameter(s): stock_quantity", 400)
                item["stock_quantity"] = quantity
            if "sku" in changes:
                self._check_sku(str(changes["sku"] or ""), item["id"])
            for key in ("manage_stock", "stock_status", "status", "regular_price", "name",
                        "sku", "description"):
                if key in changes:
                    item[key] = changes[key]
            if "regular_price" in changes:
                item["price"] = changes["regular_price"]
            self._stock_status(item)
            self._dates(item, created=False)
            # woocommerce_update_product / woocommerce_update_product_variation: the
            # webhook carries the saved object itself, a variation for a variation.
            self.emit("product.updated", item["id"])
            return item

    def delete_product(self, product_id: int) -> Json:
        with self.lock:
            product = self.products.pop(product_id, None)
            if product is None:
                raise StoreError("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            for vid in product["variations"]:
                self.variations.pop(vid, None)
            self.emit("product.deleted", product_id)
            return product

    def change_stock(self, item: Json, delta: int) -> tuple[int, int] | None:
        """``wc_update_product_stock``: only items that manage stock move; (old, new) or
        None. Core then saves the product, so ``product.updated`` fires for it."""
        if not item["manage_stock"] or item["stock_quantity"] is None:
            return None
        old = item["stock_quantity"]
        item["stock_quantity"] = old + delta
        self._stock_status(item)
        self._dates(item, created=False)
        self.emit("product.updated", item["id"])
        return old, item["stock_quantity"]

    def product_payload(self, product_id: int) -> Json:
        """``GET /products/<id>`` as a webhook builds it; for a variation's id core answers
        the variation as a product of type ``variation`` with its ``parent_id``."""
        with self.lock:
            if product_id in self.products:
                return copy.deepcopy(self.products[product_id])
            variation = copy.deepcopy(self.variations[product_id])
            parent = self.products[variation["parent_id"]]
            options = ", ".join(str(a.get("option", "")) for a in variation["attributes"])
            return {**variation, "type": "variation", "name": f"{parent['name']} - {options}"}

    # --- views ------------------------------------------------------------------------

    def view(self, obj: Json) -> Json:
        """A deep copy, so the HTTP layer never serialises an object being changed."""
        with self.lock:
            return copy.deepcopy(obj)
