"""End to end in a real browser (Debian's Chromium driven by Playwright).

Sign in with a password, get sent to TOTP enrolment when personal data is first needed, read
the secret from the page, enter a code, save the recovery codes and continue to the customers;
sign out and back in with the second factor, find a customer and reveal their email; the
reveal leaves an audit event. Skipped (with the reason) when Chromium is not installed.

Run it alone with ``pytest -m browser``; point ``STORESYNC_CHROMIUM`` at another Chromium build.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyotp
import pytest

from storesync.customers.services import CustomerInput, customer_create
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR

CHROMIUM = os.environ.get("STORESYNC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium, "
                              "or set STORESYNC_CHROMIUM)"),
]


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_sign_in_enrol_mfa_and_reveal_a_customer(live_server, workspace, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    customer = customer_create(workspace_id=workspace.workspace.id, actor=ACTOR,
                               data=CustomerInput(first_name="Zenobia",
                                                  email="zenobia.quill@example.com"))
    from playwright.sync_api import sync_playwright

    base = live_server.url
    email, password = workspace.owner.email, workspace.password
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        _sign_in(page, base, email, password)
        page.goto(f"{base}/customers/")
        assert "two-factor authentication first" in page.content()  # the gate says why
        if "/reauthenticate" in page.url:
            page.fill("input[name=password]", password)
            page.click("main button[type=submit]")
        assert "/2fa/totp/activate" in page.url
        secret = page.input_value("#authenticator_secret")
        totp = pyotp.TOTP(secret)
        page.fill("input[name=code]", totp.now())
        page.click("main button[type=submit]")
        page.wait_for_load_state()

        assert "/2fa/recovery-codes" in page.url
        with page.expect_download() as download:
            page.click("#download_codes")
        saved = Path(download.value.path()).read_text()
        codes = page.text_content("#recovery_codes").split()
        assert len(codes) == 10 and all(code in saved for code in codes)
        page.click("#codes_saved")
        page.wait_for_load_state()
        assert page.url == f"{base}/customers/"

        page.click("button:has-text('Menu')")
        page.click("text=Sign out")
        page.wait_for_load_state()
        _sign_in(page, base, email, password)
        assert "/2fa/authenticate" in page.url
        # A saved recovery code stands in for the phone (and avoids waiting out the TOTP
        # window: the code used for enrolment cannot be replayed).
        page.fill("input[name=code]", codes[0])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "/2fa/authenticate" not in page.url

        page.goto(f"{base}/customers/")
        page.fill("input[name=email]", "ZENOBIA.QUILL@example.com")
        page.click("button:has-text('Find')")
        page.wait_for_load_state()
        page.click(f"text={str(customer.id)[-8:]}")
        assert "zenobia" not in page.content().lower()
        page.select_option("select[name=purpose]", "customer_support")
        page.click("#reveal")
        assert page.text_content("#email") == "zenobia.quill@example.com"
        shot = Path(os.environ.get("STORESYNC_SCREENSHOTS", "test-results")) / "reveal.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    event = AuditEvent.objects.get(action="personal_data.read", subject_id=str(customer.id))
    assert event.actor_id == str(workspace.owner.id) and event.purpose == "customer_support"
    assert re.fullmatch(r"[0-9a-f]{64}", event.hash)
