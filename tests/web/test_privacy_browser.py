"""The privacy centre in a real browser (Chromium via Playwright): an access request and an
erasure request, each confirmed with the code read from the mail outbox directory."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from storesync.core.tenancy import workspace_scope
from storesync.customers.models import Customer
from storesync.customers.services import CustomerInput, customer_create
from storesync.privacy.requests_models import DataSubjectRequest
from storesync.privacy.services import dsr_approve
from tests.conftest import ACTOR
from tests.web.test_browser import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]
EMAIL = "rohan.mehta@example.com"


def _latest(outbox: Path, pattern: str) -> str:
    for path in sorted(outbox.glob("*"), key=lambda p: p.stat().st_mtime, reverse=True):
        found = re.findall(pattern, path.read_text())
        if found:
            return found[-1]
    raise AssertionError(f"nothing like {pattern!r} in the outbox")


def _submit_and_confirm(page, base: str, outbox: Path, kind: str) -> None:
    page.goto(f"{base}/privacy/acme/")
    page.check(f"input[name=kind][value={kind}]")
    page.fill("input[name=email]", EMAIL)
    page.click("#submit-request")
    page.wait_for_load_state()
    assert "6-digit code" in page.content()
    page.fill("input[name=code]", _latest(outbox, r"Verification code: (\d{6})"))
    page.click("#verify")
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_access_then_erasure_through_the_privacy_centre(live_server, workspace, settings,
                                                         tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    ws = workspace.workspace.id
    customer = customer_create(workspace_id=ws, actor=ACTOR, data=CustomerInput(
        first_name="Rohan", last_name="Mehta", email=EMAIL))
    from playwright.sync_api import sync_playwright

    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        _submit_and_confirm(page, base, tmp_path, "access")
        assert page.get_attribute("#request-status", "data-status") == "completed"
        link = _latest(tmp_path, r"(/privacy/acme/download/\S+)")
        archive = page.request.get(f"{base}{link}")
        assert archive.status == 200
        data = json.loads(zipfile.ZipFile(io.BytesIO(archive.body())).read("subject.json"))
        assert data["customer"][0]["first_name"] == "Rohan"
        assert page.request.get(f"{base}{link}").status == 404  # once only

        _submit_and_confirm(page, base, tmp_path, "erasure")
        assert page.get_attribute("#request-status", "data-status") == "pending"
        with workspace_scope(ws):
            request = DataSubjectRequest.objects.filter(kind="erasure").get()
        dsr_approve(workspace_id=ws, request_id=request.id, actor=ACTOR)
        page.reload()
        assert page.get_attribute("#request-status", "data-status") == "completed"
        browser.close()
    with workspace_scope(ws):
        erased = Customer.objects.get(id=customer.id)
    assert erased.__dict__["email"] is None and erased.__dict__["first_name"] is None
