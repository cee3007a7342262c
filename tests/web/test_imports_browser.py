"""A CSV import in a real browser at phone size (Debian's Chromium): upload a small file, watch
the job page's progress move in place as the worker reports it, then see the outcome.

The job is not run inline here: it waits in the configured queue, as in production, and the
test plays the worker, pausing half-way so that the page can be seen updating without a reload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from storesync.catalog.models import Variant
from storesync.core import jobs
from storesync.core.tenancy import workspace_scope
from tests.web.test_browser import CHROMIUM
from tests.web.test_browser_commerce import _fits, phone  # noqa: F401 - the signed-in page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]
PRODUCTS = ("handle,title,option1_name,option1_value,sku,price,tax_rate\n"
            "tee,Cotton Tee,Size,S,TEE-S,199.00,5\n"
            "tee,,,M,TEE-M,209.00,5\n")


@pytest.fixture
def queue() -> Iterator[Any]:
    """The configured queue instead of immediate mode: the test plays the worker."""
    huey = settings.HUEY
    huey.immediate = False
    huey.flush()
    yield huey
    huey.flush()
    huey.immediate = True


def test_upload_a_csv_and_watch_the_import_finish(phone, workspace, queue, tmp_path,  # noqa: F811
                                                  monkeypatch):
    page = phone
    page.click("button:has-text('Menu')")
    page.click("nav >> text=Products")
    page.click("text=Import CSV")
    _fits(page)
    upload = tmp_path / "tees.csv"
    upload.write_text(PRODUCTS, encoding="utf-8")
    page.set_input_files("#id_file", str(upload))
    page.check("text=All or nothing")
    page.click("button:has-text('Upload and import')")
    page.wait_for_url("**/imports/*-*/")
    assert page.inner_text("[data-job=text]") == "Waiting for a worker…"
    _fits(page)
    page.evaluate("window.stayedOnPage = true")  # gone if the page reloads

    real = jobs.runner_for("import.products")

    def half_way_then_real(context: jobs.JobContext) -> dict[str, Any]:
        # A worker that reports half the rows, waits until the open page shows it (polled,
        # not reloaded), then does the real import.
        context.progress(done=1, total=2, stage="writing")
        page.locator("[data-job=text]", has_text="Writing: 1 of 2 rows").wait_for()
        assert page.evaluate("window.stayedOnPage") is True
        assert page.inner_text("[data-job=state]") == "Running"
        assert page.evaluate("document.querySelector('[data-job=bar]').value") == 1
        return real(context)

    gated: Callable[[str], Any] = lambda kind: half_way_then_real  # noqa: E731
    monkeypatch.setattr(jobs, "runner_for", gated)
    task = queue.dequeue()
    queue.execute(task)  # what `storesync worker` does with the queued job

    page.wait_for_selector("#outcome")  # the page reloads once the job has ended
    assert "Imported 2 of 2 rows." in page.inner_text("#outcome")
    assert page.inner_text("[data-job=state]") == "Succeeded"
    assert page.evaluate("document.querySelector('[data-job=bar]').value") == 2
    assert page.evaluate("document.querySelector('[data-job=bar]').max") == 2
    _fits(page)
    with workspace_scope(workspace.workspace.id):
        assert set(Variant.objects.values_list("sku", flat=True)) == {"TEE-S", "TEE-M"}
    page.click("text=← Imports")
    assert "tees.csv" in page.inner_text("table.imports")
