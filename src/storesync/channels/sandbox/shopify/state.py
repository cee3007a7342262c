"""The simulated shop's state, held in memory and guarded by one lock.

Shapes follow the GraphQL Admin API objects (Product, ProductVariant, InventoryItem, Location,
InventoryLevel, Order, LineItem, Refund, FulfillmentOrder, Fulfillment, WebhookSubscription,
BulkOperation); ids are the numeric part of Shopify's global ids (``gid://shopify/Product/1``).
Everything random is drawn from one ``random.Random(seed)``, so a seed gives the same catalog.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ADJECTIVES = ("Classic", "Organic", "Handwoven", "Vintage", "Everyday", "Premium", "Linen",
              "Cotton", "Bamboo", "Ceramic", "Copper", "Brass", "Indigo", "Saffron")
NOUNS = ("Kurta", "Tote", "Mug", "Scarf", "Cushion", "Lamp", "Notebook", "Bottle", "Shirt",
         "Dupatta", "Planter", "Candle", "Bowl", "Apron")
SIZES = ("S", "M", "L", "XL")
COLOURS = ("Red", "Blue", "Green", "Black", "White", "Ochre")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def gid(kind: str, number: int) -> str:
    """``gid://shopify/<kind>/<number>``: the Admin API's global id format."""
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str) -> int | None:
    """The number of a global id of ``kind``; None when it is not one."""
    prefix = f"gid://shopify/{kind}/"
    if not value.startswith(prefix) or not value[len(prefix):].isdigit():
        return None
    return int(value[len(prefix):])


@dataclass
class Location:
    id: int
    name: str
    is_active: bool = True
    kind: str = "Location"


@dataclass
class InventoryItem:
    id: int
    variant_id: int
    sku: str
    tracked: bool = True
    harmonized_system_code: str | None = None
    weight_grams: int | None = None
    kind: str = "InventoryItem"


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    options: tuple[tuple[str, str], ...]
    inventory_item_id: int
    barcode: str | None = None
    compare_at_price: Decimal | None = None
    updated_at: datetime = field(default_factory=now)
    kind: str = "ProductVariant"


@dataclass
class Product:
    id: int
    title: str
    handle: str
    vendor: str
    product_type: str
    description_html: str
    option_names: tuple[str, ...]
    variant_ids: list[int]
    status: str = "ACTIVE"
    tags: tuple[str, ...] = ()
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
    kind: str = "Product"


@dataclass
class LineItem:
    id: int
    variant_id: int | None
    sku: str
    title: str
    quantity: int
    price: Decimal
    discount: Decimal = Decimal("0.00")


@dataclass
class RefundLine:
    line_item_id: int
    quantity: int
    restock_type: str  # RETURN | CANCEL | NO_RESTOCK


@dataclass
class Refund:
    id: int
    order_id: int
    created_at: datetime
    amount: Decimal
    lines: list[RefundLine]
    note: str = ""


@dataclass
class FulfillmentOrderLine:
    id: int
    line_item_id: int
    total_quantity: int
    remaining_quantity: int


@dataclass
class FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    lines: list[FulfillmentOrderLine]
    status: str = "OPEN"  # OPEN | IN_PROGRESS | CLOSED | CANCELLED


@dataclass
class Fulfillment:
    id: int
    order_id: int
    created_at: datetime
    lines: list[tuple[int, int]]  # (line item id, quantity)
    tracking_company: str | None
    tracking_number: str | None
    tracking_url: str | None
    notify_customer: bool
    location_id: int
    status: str = "SUCCESS"


@dataclass
class Transaction:
    id: int
    kind: str  # SALE | AUTHORIZATION | CAPTURE | REFUND | VOID
    amount: Decimal
    gateway: str
    card_company: str | None = None
    card_number: str | None = None  # masked, as Shopify shows it: "•••• •••• •••• 4242"
    status: str = "SUCCESS"


@dataclass
class Order:
    id: int
    number: int
    email: str
    currency: str
    lines: list[LineItem]
    shipping_address: dict[str, str | None]
    shipping_price: Decimal
    created_at: datetime
    updated_at: datetime
    customer_id: int | None = None
    financial_status: str = "PAID"
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    kind: str = "Order"

    @property
    def name(self) -> str:
        return f"#{self.number}"


@dataclass
class MarketingConsent:
    """One channel's marketing consent (``CustomerEmailAddress`` / ``CustomerPhoneNumber``):
    the state, the M3AAWG opt-in level and when it last changed. A customer who never
    decided is ``NOT_SUBSCRIBED`` with no level and no date."""

    state: str = "NOT_SUBSCRIBED"
    opt_in_level: str | None = None
    updated_at: datetime | None = None


@dataclass
class Customer:
    """A buyer's customer record (one per email, as checkout finds or creates it)."""

    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime
    kind: str = "Customer"
    email_marketing: MarketingConsent = field(default_factory=MarketingConsent)
    sms_marketing: MarketingConsent = field(default_factory=MarketingConsent)
    tags: list[str] = field(default_factory=list)


@dataclass
class WebhookSubscription:
    id: int
    topic: str  # GraphQL enum: ORDERS_CREATE
    uri: str
    created_at: datetime
    updated_at: datetime
    format: str = "JSON"
    consecutive_failures: int = 0
    kind: str = "WebhookSubscription"


@dataclass
class BulkOperation:
    id: int
    query: str
    created_at: datetime
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    result: bytes = b""
    type: str = "QUERY"
    kind: str = "BulkOperation"


class Shop:
    """One shop: catalog, stock, orders and the app's webhook subscriptions."""

    def __init__(self, *, name: str = "Sandbox Traders", domain: str = "sandbox.myshopify.com",
                 currency: str = "INR", plan: str = "standard") -> None:
        self.lock = threading.RLock()
        self.name = name
        self.domain = domain
        self.currency = currency
        self.plan = plan
        self.shop_id = 1
        self._next = 1000
        self.locations: dict[int, Location] = {}
        self.products: dict[int, Product] = {}
        self.variants: dict[int, Variant] = {}
        self.items: dict[int, InventoryItem] = {}
        self.levels: dict[tuple[int, int], int] = {}  # (item id, location id) -> available
        self.level_updated: dict[tuple[int, int], datetime] = {}
        self.orders: dict[int, Order] = {}
        self.line_items: dict[int, LineItem] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.subscriptions: dict[int, WebhookSubscription] = {}
        self.bulk_operations: dict[int, BulkOperation] = {}
        self.customers: dict[int, Customer] = {}
        # Customers whose erasure was requested (customerRequestDataErasure) and carried out.
        self.erased_customers: set[int] = set()
        self.order_number = 1000
        self.add_location("Main warehouse")

    def new_id(self) -> int:
        with self.lock:
            self._next += 1
            return self._next

    def add_location(self, name: str) -> Location:
        location = Location(self.new_id(), name)
        self.locations[location.id] = location
        return location

    @property
    def default_location(self) -> Location:
        return next(iter(self.locations.values()))

    # --- catalog ---------------------------------------------------------------------------

    def seed_catalog(self, *, products: int, variants_per_product: int, seed: int,
                     stock: int = 10) -> list[Product]:
        """Add ``products`` products with up to four variants each, the same for a seed."""
        rng = random.Random(seed)  # noqa: S311 - catalog data, not secrets
        created = []
        with self.lock:
            for n in range(products):
                title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {seed}-{n + 1}"
                created.append(self._add_product(rng, title, variants_per_product, stock))
        return created

    def _add_product(self, rng: random.Random, title: str, variant_count: int,
                     stock: int) -> Product:
        product_id = self.new_id()
        handle = title.lower().replace(" ", "-")
        sizes = SIZES[:max(1, min(variant_count, len(SIZES)))]
        colour = rng.choice(COLOURS)
        base_price = Decimal(rng.randrange(199, 4999)).scaleb(0) + Decimal("0.00")
        product = Product(product_id, title, handle, "Sandbox Traders", rng.choice(NOUNS),
                          f"<p>{title}, made to order.</p>", ("Size", "Colour"), [],
                          tags=("sandbox", colour.lower()))
        for size in sizes:
            variant_id, item_id = self.new_id(), self.new_id()
            sku = f"{handle.upper()[:12]}-{size}-{variant_id}"
            self.variants[variant_id] = Variant(
                variant_id, product_id, f"{size} / {colour}", sku, base_price,
                (("Size", size), ("Colour", colour)), item_id,
                barcode=str(rng.randrange(10**12, 10**13)),
                compare_at_price=base_price + 100 if rng.random() < 0.3 else None)
            self.items[item_id] = InventoryItem(item_id, variant_id, sku,
                                                harmonized_system_code="6109",
                                                weight_grams=rng.randrange(100, 900))
            for location in self.locations.values():
                self.levels[(item_id, location.id)] = stock
                self.level_updated[(item_id, location.id)] = now()
            product.variant_ids.append(variant_id)
        self.products[product_id] = product
        return product

    def add_product(self, title: str, variants: list[tuple[str, Decimal, int]]) -> Product:
        """A product whose variants have these (SKU, price, stock at every location): how the
        demo gives the shop the hub's own catalog, so their SKUs agree."""
        with self.lock:
            product_id = self.new_id()
            handle = "-".join(title.lower().split())
            product = Product(product_id, title, handle, "Demo Traders", "", f"<p>{title}</p>",
                              ("Title",), [])
            for sku, price, stock in variants:
                variant_id, item_id = self.new_id(), self.new_id()
                self.variants[variant_id] = Variant(variant_id, product_id, sku, sku, price,
                                                    (("Title", sku),), item_id)
                self.items[item_id] = InventoryItem(item_id, variant_id, sku)
                for location in self.locations.values():
                    self.levels[(item_id, location.id)] = stock
                    self.level_updated[(item_id, location.id)] = now()
                product.variant_ids.append(variant_id)
            self.products[product_id] = product
            return product

    def variant_by_sku(self, sku: str) -> Variant | None:
        return next((v for v in self.variants.values() if v.sku == sku), None)

    # --- orders ----------------------------------------------------------------------------

    def create_order(self, *, lines: list[tuple[Variant, int]], email: str,
                     address: dict[str, str | None], shipping: Decimal,
                     accepts_email: bool = False, accepts_sms: bool = False) -> Order:
        """A sale on Shopify: takes stock at the default location and opens a fulfillment
        order for it, as checkout does."""
        with self.lock:
            location = self.default_location
            stamp = now()
            self.order_number += 1
            customer = self.customer_for(email, address, accepts_email=accepts_email,
                                         accepts_sms=accepts_sms)
            order = Order(self.new_id(), self.order_number, email, self.currency, [], address,
                          shipping, stamp, stamp, customer_id=customer.id)
            fo = FulfillmentOrder(self.new_id(), order.id, location.id, [])
            total = shipping
            for variant, quantity in lines:
                line = LineItem(self.new_id(), variant.id, variant.sku,
                                self.products[variant.product_id].title, quantity, variant.price)
                order.lines.append(line)
                self.line_items[line.id] = line
                fo.lines.append(FulfillmentOrderLine(self.new_id(), line.id, quantity, quantity))
                key = (variant.inventory_item_id, location.id)
                self.levels[key] = self.levels.get(key, 0) - quantity
                self.level_updated[key] = stamp
                total += variant.price * quantity
            order.fulfillment_orders.append(fo)
            self.fulfillment_orders[fo.id] = fo
            order.transactions.append(Transaction(self.new_id(), "SALE", total, "bogus",
                                                  "Visa", "•••• •••• •••• 4242"))
            self.orders[order.id] = order
            return order

    # --- customers -------------------------------------------------------------------------

    def customer_for(self, email: str, address: dict[str, str | None], *,
                     accepts_email: bool = False, accepts_sms: bool = False) -> Customer:
        """The customer record with this email, created at the first checkout. Ticking the
        checkout's marketing boxes subscribes the channel with a single opt-in, as checkout
        records it."""
        with self.lock:
            key = email.strip().lower()
            found = next((c for c in self.customers.values()
                          if key and (c.email or "").lower() == key), None)
            if found is None:
                stamp = now()
                found = Customer(self.new_id(), address.get("firstName"),
                                 address.get("lastName"), email or None, address.get("phone"),
                                 stamp, stamp)
                self.customers[found.id] = found
            stamp = now()
            if accepts_email and found.email:
                found.email_marketing = MarketingConsent("SUBSCRIBED", "SINGLE_OPT_IN", stamp)
            if accepts_sms and found.phone:
                found.sms_marketing = MarketingConsent("SUBSCRIBED", "SINGLE_OPT_IN", stamp)
            return found

    def erase_customer(self, customer_id: int) -> bool:
        """Carry out a data erasure: the customer record goes, and their orders keep no
        contact or address (Shopify redacts them the same way after its waiting period).
        False when there is no such customer."""
        with self.lock:
            if self.customers.pop(customer_id, None) is None:
                return False
            self.erased_customers.add(customer_id)
            for order in self.orders.values():
                if order.customer_id == customer_id:
                    order.email = ""
                    order.shipping_address = dict.fromkeys(order.shipping_address)
                    order.customer_id = None
                    order.updated_at = now()
            return True

    def order(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def summary(self) -> dict[str, Any]:
        """What tests and people look at: counts, levels, fulfillments, subscriptions."""
        with self.lock:
            return {
                "shop": {"name": self.name, "domain": self.domain, "currency": self.currency,
                         "plan": self.plan},
                "locations": [gid("Location", loc.id) for loc in self.locations.values()],
                "products": len(self.products),
                "variants": len(self.variants),
                "levels": [{"inventory_item_id": gid("InventoryItem", item),
                            "location_id": gid("Location", loc), "sku": self.items[item].sku,
                            "available": qty}
                           for (item, loc), qty in sorted(self.levels.items())],
                "orders": [{"id": gid("Order", o.id), "name": o.name,
                            "updated_at": o.updated_at.isoformat(),
                            "cancelled": o.cancelled_at is not None,
                            "fulfillments": [{"id": gid("Fulfillment", f.id),
                                              "tracking_number": f.tracking_number,
                                              "tracking_company": f.tracking_company,
                                              "lines": [[gid("LineItem", li), q]
                                                        for li, q in f.lines]}
                                             for f in o.fulfillments],
                            "fulfillment_orders": [{"id": gid("FulfillmentOrder", fo.id),
                                                    "status": fo.status}
                                                   for fo in o.fulfillment_orders]}
                           for o in self.orders.values()],
                "subscriptions": [{"id": gid("WebhookSubscription", s.id), "topic": s.topic,
                                   "uri": s.uri} for s in self.subscriptions.values()],
                "customers": [{"id": gid("Customer", c.id),
                               "email_marketing_state": c.email_marketing.state,
                               "sms_marketing_state": c.sms_marketing.state,
                               "tags": list(c.tags)} for c in self.customers.values()],
            }
