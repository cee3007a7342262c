"""The storefront consent banner in a real browser, embedded in a page of another origin.

Nothing is stored before the visitor chooses; "Reject all" is exactly as large as "Accept
all"; rejecting records a withdrawal of every optional purpose through the CORS consent API;
the choice is remembered, so the banner does not come back on the next page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storesync.core.tenancy import workspace_scope
from storesync.privacy import consent
from storesync.privacy.consent_models import ConsentEntry
from tests.conftest import ACTOR
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


class _Storefront(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def storefront() -> Iterator[tuple[str, type[_Storefront]]]:
    """A seller's shop on another origin (another port of 127.0.0.1)."""
    handler = type("Storefront", (_Storefront,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_banner_rejects_all_through_the_consent_api(live_server, workspace, storefront,
                                                     monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ws = workspace.workspace.id
    origin, handler = storefront
    settings = consent.privacy_settings_update(workspace_id=ws, actor=ACTOR, changes={
        "storefront_origins": [origin]})
    base = live_server.url.replace("localhost", "127.0.0.1")
    handler.html = (f'<!doctype html><html lang="en"><head><title>Shop</title></head><body>'
            f'<h1>Acme shop</h1><button data-storesync-consent-open>Privacy choices</button>'
            f'<script src="{base}/static/storesync/consent-banner.js" data-shop="acme" '
            f'data-key="{settings.public_key}" data-api="{base}" defer></script></body></html>'
                    ).encode()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{origin}/")
        banner = page.locator("#storesync-consent")
        banner.wait_for()
        assert banner.get_attribute("role") == "region"
        assert page.evaluate("document.activeElement.id") == "ssc-reject"
        reject, accept = page.locator("#ssc-reject"), page.locator("#ssc-accept")
        r, a = reject.bounding_box(), accept.bounding_box()
        assert r and a and (round(r["width"]), round(r["height"])) == (
            round(a["width"]), round(a["height"]))
        assert reject.evaluate("e => getComputedStyle(e).backgroundColor") == \
            accept.evaluate("e => getComputedStyle(e).backgroundColor")
        assert context.cookies() == [] and page.evaluate("localStorage.length") == 0
        with page.expect_response(lambda r: "/privacy/acme/consent" in r.url
                                  and r.request.method == "POST") as posted:
            reject.click()
        assert posted.value.status == 201
        assert banner.count() == 0
        with workspace_scope(ws):
            entries = list(ConsentEntry.objects.all())
        assert sorted(e.purpose for e in entries) == ["analytics", "marketing",
                                                      "personalisation", "sale_share"]
        assert {(e.state, e.source, e.subject_type) for e in entries} == {
            ("withdrawn", "storefront_banner", "visitor")}
        assert page.evaluate("window.storesyncConsent.allows('marketing')") is False
        page.reload()
        page.wait_for_load_state("networkidle")
        assert page.locator("#storesync-consent").count() == 0
        page.click("text=Privacy choices")
        assert page.locator("#storesync-consent").is_visible()
        assert context.cookies() == []
        browser.close()
