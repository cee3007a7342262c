"""The commerce pages in a real browser at phone size (390 by 844 px, Debian's Chromium).

Create a product, adjust stock, find an order by number and reveal its buyer — each signed in
with password and TOTP, and each page checked for horizontal scrolling (the page must fit the
phone; wide tables stack or scroll inside their own box). Screenshots of the dashboard and the
order page land in ``$STORESYNC_SCREENSHOTS`` (default ``test-results/``, not committed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from storesync.catalog.models import Product
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level
from tests.web.conftest import enrol_totp
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("STORESYNC_SCREENSHOTS", "test-results"))


@pytest.fixture
def phone(live_server, workspace, monkeypatch) -> Iterator:
    """A Chromium page the size of a phone, signed in as the owner (password, then TOTP)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    from playwright.sync_api import sync_playwright

    totp = enrol_totp(workspace.owner)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=PHONE)
        # generous: the dashboard after sign-in is the heaviest page, and CI runs two
        # workers on two cores
        page.set_default_timeout(30_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", workspace.owner.email)
        page.fill("input[name=password]", workspace.password)
        page.click("main button[type=submit]")
        page.wait_for_url("**/2fa/authenticate/**")
        page.fill("input[name=code]", totp.now())
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.base = live_server.url  # type: ignore[attr-defined]
        yield page
        browser.close()


def _fits(page) -> None:
    """No horizontal scrolling of the page itself at phone width."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_create_a_product_on_a_phone(phone, workspace):
    page = phone
    _fits(page)
    page.click("button:has-text('Menu')")
    page.click("nav >> text=Products")
    page.click("text=New product")
    _fits(page)
    page.fill("#id_title", "Block-print Dupatta")
    page.select_option("#id_status", "active")
    page.fill("#id_option1", "Colour")
    page.fill("#id_v-0-sku", "DUP-INDIGO")
    page.fill("#id_v-0-option1", "Indigo")
    page.fill("#id_v-0-price", "749")
    page.select_option("#id_v-0-tax_rate", "500")
    page.fill("#id_v-0-hsn_code", "6214")
    page.click("button:has-text('Create product')")
    page.wait_for_selector("text=Product “Block-print Dupatta” created.")
    assert page.input_value("#id_v-0-price") == "749.00"
    _fits(page)
    _shot(page, "product-phone.png")
    with workspace_scope(workspace.workspace.id):
        product = Product.objects.get()
    assert (product.title, product.status) == ("Block-print Dupatta", "active")


def test_adjust_stock_on_a_phone(phone, stock):
    from storesync.inventory.services import stock_receive
    from tests.conftest import ACTOR

    ws, variants, main, _store = stock
    stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id, location_id=main.id,
                  quantity=10, actor=ACTOR)
    page = phone
    page.goto(f"{page.base}/inventory/")
    _fits(page)
    page.fill("input[name=sku]", "KURTA-M")
    page.click("button:has-text('Filter')")
    page.click("a:has-text('KURTA-M')")
    page.fill("#id_delta", "-3")
    page.fill("#id_reason", "water damage")
    page.click("#adjust-form button[type=submit]")
    page.wait_for_selector("text=Adjusted by -3: 7 on hand.")
    assert page.text_content("#on-hand") == "7"
    assert "water damage" in page.text_content(".ledger")
    _fits(page)
    _shot(page, "level-phone.png")
    with workspace_scope(ws):
        assert Level.objects.get(variant=variants["KURTA-M"], location=main).on_hand == 7


def test_find_an_order_on_a_phone(phone, placed_order):
    page = phone
    page.goto(f"{page.base}/")
    page.wait_for_selector("svg.sales-chart")
    _fits(page)
    _shot(page, "dashboard-phone.png")
    page.goto(f"{page.base}/orders/")
    _fits(page)
    page.fill("#id_number", "1001")
    page.click("button:has-text('Show orders')")
    page.wait_for_selector("h1:has-text('Order #1001')")
    assert "zenobia" not in page.content().lower()
    _fits(page)
    page.select_option("select[name=purpose]", "order_fulfilment")
    page.click("#reveal")
    page.wait_for_selector("#buyer-email")
    assert page.text_content("#buyer-email") == "zenobia.quill@example.com"
    _fits(page)
    _shot(page, "order-phone.png")
    # The same two pages on a desktop screen, for a look at the wide layout.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{page.base}/")
    _fits(page)
    _shot(page, "dashboard-desktop.png")
    page.goto(f"{page.base}/orders/{placed_order.id}/")
    _fits(page)
    _shot(page, "order-desktop.png")


def test_every_commerce_page_fits_a_phone(phone, stock, placed_order):
    """No page scrolls sideways at 390 px; wide tables stack, the chart scrolls in its box."""
    from storesync.inventory.selectors import level_list

    ws, variants, main, _store = stock
    level = level_list(workspace_id=ws).items[0]
    page = phone
    paths = {
        "orders": "/orders/", "order": f"/orders/{placed_order.id}/",
        "products": "/products/", "product": f"/products/{variants['KURTA-M'].product_id}/",
        "product-new": "/products/new", "inventory": "/inventory/",
        "level": f"/inventory/{level.id}/", "receive": "/inventory/receive",
        "locations": "/settings/locations/", "location": f"/settings/locations/{main.id}/",
        "dashboard": "/", "customers": "/customers/", "members": "/settings/members/",
        "audit": "/settings/audit/",
    }
    for name, path in paths.items():
        page.goto(f"{page.base}{path}")
        assert page.locator("h1").count() == 1, name
        _fits(page)
        _shot(page, f"fit-{name}.png")
    # The menu opens and lists every section.
    page.click("button:has-text('Menu')")
    for section in ("Orders", "Products", "Inventory", "Customers", "Locations"):
        assert page.locator(f"nav >> text={section}").first.is_visible(), section
    _fits(page)
