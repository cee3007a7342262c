"""The engine against both simulators, started in-process on free ports: connections made
through the CLI (credentials checked, webhooks registered), and a webhook relay that hands
what the simulators deliver to the hub's own webhook endpoint."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.channels import initial
from storesync.channels.models import Connection
from storesync.channels.reconcile import reconcile_orders
from storesync.channels.sandbox.shopify.server import Config, SandboxServer
from storesync.channels.sandbox.woocommerce.server import Running, start
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.customers.services import ConsentInput, CustomerInput, customer_create
from storesync.inventory.services import location_create, stock_receive
from storesync.security.audit import Actor
from tests.channels.sandbox.shopify.receiver import Receiver as ShopifyReceiver
from tests.channels.sandbox.woocommerce.conftest import receiver as woo_receiver_fixture

ACTOR = Actor.system("test")
WOO_KEY, WOO_SECRET = "ck_test_sims_0001", "cs_test_sims_0001"
WOO_WEBHOOK_SECRET = "whsec-woo-sims-0123456789"
woo_receiver = woo_receiver_fixture  # the fixture, under a name of its own


@pytest.fixture
def shopify() -> Iterator[SandboxServer]:
    server = SandboxServer(Config(webhook_retry_base_s=0.05)).start()
    yield server
    server.close()


@pytest.fixture
def woo() -> Iterator[Running]:
    running = start(port=0, consumer_key=WOO_KEY, consumer_secret=WOO_SECRET, seed=7)
    yield running
    running.stop()


@pytest.fixture
def shopify_receiver() -> Iterator[ShopifyReceiver]:
    receiver = ShopifyReceiver().start()
    yield receiver
    receiver.close()


def point_webhooks_at(url: str) -> Callable[[], None]:
    """Make ``STORESYNC_BASE_URL`` the receiver's; returns the undo."""
    original = settings.CONFIG
    settings.CONFIG = dataclasses.replace(original, base_url=url)

    def undo() -> None:
        settings.CONFIG = original

    return undo


def base_of(receiver_url: str) -> str:
    return receiver_url.split("/webhooks/", 1)[0]


def connect_and_sync(connect: Callable[[Any], Connection], sandbox: Any, receiver_url: str,
                     workspace_id: Any) -> Connection:
    """Connect with the platform's webhooks registered to ``receiver_url``, then run the
    first sync of its catalog (no orders)."""
    undo = point_webhooks_at(base_of(receiver_url))
    try:
        connection = connect(sandbox)
    finally:
        undo()
    initial.connection_initial_sync(workspace_id=workspace_id, connection_id=connection.id,
                                    actor=ACTOR, orders=False)
    return connection


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def connect_shopify(server: SandboxServer, *, name: str = "Shopify shop") -> Connection:
    """``storesync connection add shopify`` against the simulator; the webhook secret is the
    app's client secret (what Shopify signs deliveries with)."""
    output = cli("connection", "add", "shopify", "--workspace", "acme", "--name", name,
                 "--webhook-secret", server.config.client_secret, "--shop", server.url,
                 "--access-token", server.config.access_token)
    return _connection(output)


def _connection(output: str) -> Connection:
    with system_scope():
        return Connection.objects.get(id=output.strip().splitlines()[-1])


def connect_woo(running: Running, *, name: str = "Woo store") -> Connection:
    output = cli("connection", "add", "woocommerce", "--workspace", "acme", "--name", name,
                 "--webhook-secret", WOO_WEBHOOK_SECRET, "--url", running.url,
                 "--consumer-key", WOO_KEY, "--consumer-secret", WOO_SECRET)
    return _connection(output)


def relay(deliveries: list[Any], connection: Connection, *, start_at: int = 0) -> list[int]:
    """Post recorded deliveries to the hub's webhook endpoint, as the platform would have;
    returns the hub's answers."""
    client = Client()
    statuses = []
    for delivery in deliveries[start_at:]:
        headers = {k: v for k, v in delivery.headers.items()
                   if k.lower().startswith("x-")}
        response = client.post(f"/webhooks/{connection.platform}/{connection.id}",
                               data=delivery.body, content_type="application/json",
                               headers=headers)
        statuses.append(response.status_code)
    return statuses


def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout_s} s")


def hub_catalog(workspace_id: Any, skus: dict[str, int]) -> dict[str, Any]:
    """One hub product per SKU with ``quantity`` received at a warehouse."""
    location = location_create(workspace_id=workspace_id, name="Pune warehouse", actor=ACTOR)
    variants = {}
    for n, (sku, quantity) in enumerate(sorted(skus.items())):
        product = product_create(workspace_id=workspace_id, actor=ACTOR, data=ProductInput(
            title=f"Hub product {n}", variants=[
                VariantInput(sku=sku, price_minor=49900, hsn_code="6109", tax_rate_bp=500)]))
        with workspace_scope(workspace_id):
            variant = product.variants.get()
        if quantity:
            stock_receive(workspace_id=workspace_id, variant_id=variant.id,
                          location_id=location.id, quantity=quantity, actor=ACTOR)
        variants[sku] = variant
    return variants


def shopify_control(server: SandboxServer, path: str, body: Any) -> Any:
    response = httpx.post(f"{server.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


@dataclasses.dataclass
class Bought:
    """One buyer with an order on each simulator, imported into the hub."""

    ws: Any
    slug: str
    shop: Connection
    store: Connection
    shopify_customer: int
    woo_customer: int
    woo_order: int


def woo_api(running: Running, method: str, path: str, **kwargs: Any) -> Any:
    """One REST v3 call to the simulator, as the merchant's own tools would make it."""
    response = httpx.request(method, f"{running.url}/wp-json/wc/v3{path}",
                             auth=(WOO_KEY, WOO_SECRET), timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def buy_on_both(workspace: Any, shopify: SandboxServer, woo: Running, email: str, *,
                accepts_marketing: bool = False,
                hub_marketing: ConsentInput | None = None) -> Bought:
    """The buyer orders on Shopify (ticking checkout's email and SMS marketing boxes when
    ``accepts_marketing``) and on WooCommerce; both shops are connected and their orders
    imported by reconciliation; the hub has the buyer as a customer (with ``hub_marketing``
    consent, which reaches the consent ledger)."""
    ws = workspace.workspace.id
    shopify_control(shopify, "seed", {"products": 1, "variants_per_product": 1, "stock": 5})
    sku = next(iter(shopify.shop.variants.values())).sku
    shopify_control(shopify, "orders", {"lines": [{"sku": sku, "quantity": 1}], "email": email,
                                        "shipping_address": {"name": "Meera Iyer",
                                                             "firstName": "Meera",
                                                             "lastName": "Iyer"},
                                        "buyer_accepts_marketing": accepts_marketing,
                                        "buyer_accepts_sms_marketing": accepts_marketing})
    woo.sandbox.store.seed_catalog(products=1, variable_every=0)
    product = next(iter(woo.sandbox.store.products))
    customer = woo_api(woo, "POST", "/customers", json={
        "email": email, "first_name": "Meera", "last_name": "Iyer",
        "billing": {"first_name": "Meera", "last_name": "Iyer", "email": email,
                    "phone": "+91 98765 43210"}})
    order = httpx.post(f"{woo.url}/_sandbox/orders", timeout=10, json={
        "line_items": [{"product_id": product, "quantity": 1}], "customer_id": customer["id"],
        "billing": {"first_name": "Meera", "last_name": "Iyer", "email": email,
                    "address_1": "12 MG Road", "city": "Pune", "phone": "+91 98765 43210"},
        "shipping": {"first_name": "Meera", "last_name": "Iyer", "address_1": "12 MG Road",
                     "city": "Pune"}}).json()
    shop, store = connect_shopify(shopify), connect_woo(woo)
    for connection in (shop, store):
        reconcile_orders(workspace_id=ws, connection_id=connection.id)
    customer_create(workspace_id=ws, actor=ACTOR, data=CustomerInput(
        first_name="Meera", last_name="Iyer", email=email, email_marketing=hub_marketing))
    (shopify_customer,) = shopify.shop.customers
    return Bought(ws, workspace.workspace.slug, shop, store, shopify_customer, customer["id"],
                  order["id"])
