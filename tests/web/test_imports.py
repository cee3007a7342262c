"""CSV imports from the staff UI: upload → background job → progress and outcome, every problem
with row and column, refused files, retry, who may do it, and the export downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from storesync.catalog.models import Variant
from storesync.core import jobs
from storesync.core.models import Job, JobState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.models import Level, Movement
from tests.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code

PRODUCTS = ("handle,title,option1_name,option1_value,sku,price,tax_rate\n"
            "tee,Cotton Tee,Size,S,TEE-S,199.00,5\n"
            "tee,,,M,TEE-M,209.00,5\n")
BAD_ROW = "cap,Cap,,,CAP-1,free,5\n"


def _upload(client, what, text: str | bytes, name="upload.csv", **fields):
    body = text.encode() if isinstance(text, str) else text
    data = {"file": SimpleUploadedFile(name, body, "text/csv"), "mode": "all", **fields}
    return client.post(f"/imports/{what}/", data=data)


def _skus(ws) -> set[str]:
    with workspace_scope(ws):
        return set(Variant.objects.values_list("sku", flat=True))


def _jobs(ws) -> list[Job]:
    with workspace_scope(ws):
        return list(Job.objects.order_by("id"))


def _job_id(response) -> str:
    match = re.fullmatch(r"/imports/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def test_upload_runs_the_job_and_its_page_shows_progress_and_outcome(
        owner_client, workspace, django_capture_on_commit_callbacks):
    ws = workspace.workspace.id
    form = owner_client.get("/imports/products/")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert "All or nothing" in html and "Valid rows only" in html
    assert_no_inline_code(html, "import form")

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_client, "products", PRODUCTS, name="tees.csv")
    assert response.status_code == 302
    job_id = _job_id(response)
    assert _skus(ws) == {"TEE-S", "TEE-M"}

    status = owner_client.get(f"/imports/{job_id}/status").json()
    assert status == {"id": job_id, "state": "succeeded", "finished": True, "stage": "writing",
                      "done": 2, "total": 2, "percent": 100, "last_error": ""}
    page = owner_client.get(f"/imports/{job_id}/").content.decode()
    assert "tees.csv" in page and "Imported 2 of 2 rows." in page
    assert 'value="2"' in page and 'max="2"' in page  # the progress bar, full
    assert 'data-finished="true"' in page and 'http-equiv="refresh"' not in page
    assert_no_inline_code(page, "job page")

    listed = owner_client.get("/imports/").content.decode()
    assert "tees.csv" in listed and "Succeeded" in listed and ">Retry<" not in listed


def test_a_job_still_running_polls_and_refreshes_without_javascript(owner_client, workspace):
    job = jobs.job_create(workspace_id=workspace.workspace.id, kind="import.inventory",
                          params={"file": "nothing.csv", "filename": "stock.csv"},
                          actor=ACTOR)  # not committed: never runs
    page = owner_client.get(f"/imports/{job.id}/").content.decode()
    assert 'data-finished="false"' in page and f'data-status-url="/imports/{job.id}/status"' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "Waiting for a worker" in page and ">Cancel<" in page
    jobs.job_start(workspace_id=workspace.workspace.id, job_id=job.id)
    jobs.job_progress(workspace_id=workspace.workspace.id, job_id=job.id, done=300, total=1200,
                      stage="writing")
    status = owner_client.get(f"/imports/{job.id}/status")
    assert status["Cache-Control"] == "no-store"
    assert status.json()["percent"] == 25 and status.json()["finished"] is False
    cancelled = owner_client.post(f"/imports/{job.id}/cancel")
    assert cancelled.status_code == 302
    assert owner_client.get(f"/imports/{job.id}/status").json()["state"] == "cancelled"


def test_every_problem_is_listed_with_row_and_column_and_nothing_is_saved(
        owner_client, workspace, django_capture_on_commit_callbacks):
    ws = workspace.workspace.id
    many_bad = "".join(f"cap{i},Cap,,,CAP-{i},free,5\n" for i in range(120))
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _job_id(_upload(owner_client, "products", PRODUCTS + many_bad))
    assert _skus(ws) == set()
    page = owner_client.get(f"/imports/{job_id}/").content.decode()
    assert "120 problems" in page and "nothing was saved" in page
    assert "The first 100 are listed; the CSV has all 120." in page
    assert '<td data-label="Row" class="num">4</td><td data-label="Column"><code>price</code>' \
        in page
    report = owner_client.get(f"/imports/{job_id}/report")
    assert report.status_code == 200 and report["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0] == ["row", "column", "value", "problem"] and len(rows) == 121
    assert rows[1] == ["4", "price", "free", "not an amount"]
    # The list names the failure in words and offers a retry (the upload is still kept).
    listed = owner_client.get("/imports/").content.decode()
    assert "the file was refused: 120 problem(s)" in listed and ">Retry<" in listed

    with django_capture_on_commit_callbacks(execute=True):
        partial = _job_id(_upload(owner_client, "products", PRODUCTS + BAD_ROW, mode="valid"))
    assert _skus(ws) == {"TEE-S", "TEE-M"}
    page = owner_client.get(f"/imports/{partial}/").content.decode()
    assert "Imported 2 of 3 rows. 1 row with problems was skipped." in page
    assert "not an amount" in page


def test_failed_stock_import_is_retried_after_the_cause_is_fixed(
        owner_client, stock, django_capture_on_commit_callbacks):
    ws = stock[0]
    text = "sku,location,on_hand\nTEE-S,Pune warehouse,12\n"
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _job_id(_upload(owner_client, "inventory", text))
    assert owner_client.get(f"/imports/{job_id}/status").json()["state"] == "failed"
    assert "no variant has this SKU" in owner_client.get(f"/imports/{job_id}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _upload(owner_client, "products", PRODUCTS)
        retried = owner_client.post(f"/imports/{job_id}/retry")
    assert retried.status_code == 302
    assert owner_client.get(f"/imports/{job_id}/status").json()["state"] == "succeeded"
    with workspace_scope(ws):
        level = Level.objects.get(variant__sku="TEE-S")
        assert level.on_hand == 12
        assert Movement.objects.get(level=level).reason == "csv import"
    again = owner_client.post(f"/imports/{job_id}/retry", follow=True)
    assert "only a failed or cancelled job can be retried" in again.content.decode().lower()


@pytest.mark.parametrize(("body", "message"), [
    (b"handle,name,sku\nx,y,z\n", "The header row does not match"),
    (b"PK\x03\x04\x14\x00\x06\x00binary workbook", "spreadsheet workbook"),
    (PRODUCTS.replace("Cotton", "C\u00f4tton").encode("cp1252"), "not UTF-8"),
    (b"", "The file is empty."),
])
def test_a_file_that_cannot_be_read_is_a_form_error_and_nothing_is_kept(
        owner_client, workspace, body, message):
    files_before = set(jobs.jobs_dir().iterdir())
    response = _upload(owner_client, "products", body)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "has-error" in html
    assert _jobs(workspace.workspace.id) == [] and _skus(workspace.workspace.id) == set()
    assert set(jobs.jobs_dir().iterdir()) == files_before  # the upload was not kept


def test_header_problems_are_listed_by_column(owner_client, workspace):
    html = _upload(owner_client, "products", "handle,prce,sku\nx,1,y\n").content.decode()
    assert "<code>prce</code>" in html and "unknown column" in html
    assert "<code>title</code>" in html and "required column is missing" in html


def test_a_file_over_the_limit_is_a_form_error(owner_client, workspace, settings):
    settings.STORESYNC_MAX_IMPORT_BYTES = 100
    response = _upload(owner_client, "products", PRODUCTS * 3)
    assert response.status_code == 400
    assert "at most 100 bytes can be imported at once" in response.content.decode()
    assert _jobs(workspace.workspace.id) == []


def test_a_form_without_a_file_or_mode_is_refused(owner_client, workspace):
    response = owner_client.post("/imports/inventory/", data={"mode": "sometimes"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a CSV file to upload." in html and "Select a valid choice" in html


def test_roles_without_the_permission_cannot_import_or_see_imports(
        member_client, owner_client, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stock_job = _job_id(_upload(owner_client, "inventory", "sku,location,on_hand\n"
                                                              "X,Nowhere,1\n"))
        product_job = _job_id(_upload(owner_client, "products", PRODUCTS))
    viewer = member_client("viewer")
    assert viewer.get("/imports/").status_code == 403
    assert viewer.get("/imports/products/").status_code == 403
    assert _upload(viewer, "products", PRODUCTS).status_code == 403
    assert viewer.get(f"/imports/{product_job}/").status_code == 404
    assert viewer.get(f"/imports/{product_job}/status").status_code == 404
    assert viewer.post(f"/imports/{stock_job}/retry").status_code == 404
    assert "/imports/" not in viewer.get("/products/").content.decode()
    # Staff manage stock, not the catalogue: stock imports only.
    staff = member_client("staff")
    assert staff.get("/imports/inventory/").status_code == 200
    assert staff.get("/imports/products/").status_code == 403
    assert staff.get(f"/imports/{product_job}/report").status_code == 404
    assert staff.get(f"/imports/{stock_job}/").status_code == 200
    listed = staff.get("/imports/").content.decode()
    assert f"/imports/{stock_job}/" in listed and f"/imports/{product_job}/" not in listed
    assert owner_client.get("/imports/spreadsheets/").status_code == 404


def test_uploads_need_the_csrf_token(workspace):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(workspace.owner)
    response = _upload(client, "products", PRODUCTS)
    assert response.status_code == 403
    assert _jobs(workspace.workspace.id) == []


def test_jobs_of_another_workspace_are_not_found(owner_client, other_workspace):
    other = jobs.job_create(workspace_id=other_workspace.workspace.id, kind="import.products",
                            params={"file": "x.csv"}, actor=ACTOR)
    assert owner_client.get(f"/imports/{other.id}/").status_code == 404
    assert owner_client.post(f"/imports/{other.id}/cancel").status_code == 404
    with workspace_scope(other_workspace.workspace.id):
        assert Job.objects.get(id=other.id).state == JobState.QUEUED


def test_pages_link_to_imports_and_exports(owner_client, member_client, stock):
    nav = owner_client.get("/products/").content.decode()
    assert 'href="/imports/"' in nav and 'href="/imports/products/"' in nav
    assert 'href="/exports/products.csv"' in nav
    inventory = owner_client.get("/inventory/").content.decode()
    assert 'href="/imports/inventory/"' in inventory
    assert 'href="/exports/inventory.csv"' in inventory
    orders = owner_client.get("/orders/?placed_from=2026-01-01&placed_to=2026-01-31")
    assert 'href="/exports/orders.csv?placed_from=2026-01-01&amp;placed_to=2026-01-31"' in \
        orders.content.decode()


def test_exports_download_csv(owner_client, member_client, stock, placed_order):
    products = owner_client.get("/exports/products.csv")
    assert products.status_code == 200 and products["Content-Type"].startswith("text/csv")
    assert "attachment" in products["Content-Disposition"]
    assert "KURTA-M" in b"".join(products.streaming_content).decode()
    levels = b"".join(owner_client.get("/exports/inventory.csv").streaming_content).decode()
    assert next(csv.DictReader(io.StringIO(levels)))["sku"].startswith("KURTA")
    orders = b"".join(owner_client.get("/exports/orders.csv").streaming_content).decode()
    assert "KURTA-M" in orders and "zenobia" not in orders.lower()  # no personal data
    none = b"".join(owner_client.get(
        "/exports/orders.csv?placed_to=2000-01-01").streaming_content).decode()
    assert "KURTA-M" not in none
    assert owner_client.get("/exports/orders.csv?placed_from=yesterday").status_code == 400
    assert owner_client.get("/exports/customers.csv").status_code == 404
    outsider = member_client("viewer")  # viewers see orders: exports are theirs too
    assert outsider.get("/exports/orders.csv").status_code == 200
