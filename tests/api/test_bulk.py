"""CSV imports as background jobs, job records and retry, and streamed CSV exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from storesync.catalog.models import Variant
from storesync.core.tenancy import workspace_scope

PRODUCTS = ("handle,title,option1_name,option1_value,sku,price,tax_rate\n"
            "tee,Cotton Tee,Size,S,TEE-S,199.00,5\n"
            "tee,,,M,TEE-M,209.00,5\n")


def _upload(api, path, text, **fields):
    data = {"file": SimpleUploadedFile("upload.csv", text.encode(), "text/csv"), **fields}
    return api.client.post(path, data=data, headers=api.headers)


def _skus(ws):
    with workspace_scope(ws):
        return set(Variant.objects.values_list("sku", flat=True))


def test_product_import_runs_as_a_job_and_reports_its_outcome(
        owner_api, workspace, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_api, "/api/v1/imports/products", PRODUCTS)
    assert response.status_code == 202
    job = owner_api.get(f"/api/v1/jobs/{response.json()['id']}").json()
    assert job["state"] == "succeeded" and job["kind"] == "import.products"
    assert job["progress"] == {"done": 2, "total": 2, "stage": "writing"}
    assert job["result"]["written"]["variants_created"] == 2 and job["filename"] == "upload.csv"
    assert _skus(workspace.workspace.id) == {"TEE-S", "TEE-M"}
    listed = owner_api.get("/api/v1/jobs").json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_bad_rows_fail_the_job_with_row_and_column_and_store_nothing(
        owner_api, workspace, django_capture_on_commit_callbacks):
    text = PRODUCTS + "cap,Cap,,,CAP-1,free,5\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(owner_api, "/api/v1/imports/products", text)
    job = owner_api.get(f"/api/v1/jobs/{response.json()['id']}").json()
    assert job["state"] == "failed" and "nothing was saved" in job["last_error"]
    assert job["result"]["errors"] == [
        {"row": 4, "column": "price", "value": "free", "message": "not an amount"}]
    assert _skus(workspace.workspace.id) == set()
    report = owner_api.get(job["report_url"])
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows == [["row", "column", "value", "problem"], ["4", "price", "free", "not an amount"]]
    with django_capture_on_commit_callbacks(execute=True):
        partial = _upload(owner_api, "/api/v1/imports/products", text, valid_only="true")
    assert owner_api.get(f"/api/v1/jobs/{partial.json()['id']}").json()["state"] == "succeeded"
    assert _skus(workspace.workspace.id) == {"TEE-S", "TEE-M"}


def test_wrong_header_or_encoding_is_refused_before_any_job(owner_api, workspace):
    wrong = _upload(owner_api, "/api/v1/imports/products", "handle,name,sku\nx,y,z\n")
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert error["code"] == "invalid_csv" and error["field"] == "file"
    assert {(d["row"], d["column"]) for d in error["details"]} >= {(1, "name"), (1, "price")}
    latin = SimpleUploadedFile("x.csv", PRODUCTS.replace("Cotton", "Côtton").encode("cp1252"))
    refused = owner_api.client.post("/api/v1/imports/products", data={"file": latin},
                                    headers=owner_api.headers)
    assert refused.status_code == 400 and "UTF-8" in refused.json()["error"]["message"]
    assert owner_api.get("/api/v1/jobs").json()["items"] == []


@override_settings(STORESYNC_MAX_IMPORT_BYTES=100)
def test_an_oversized_upload_is_refused(owner_api):
    response = _upload(owner_api, "/api/v1/imports/products", PRODUCTS * 10)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_permissions_and_tenants(viewer_api, other_api, owner_api,
                                 django_capture_on_commit_callbacks):
    assert _upload(viewer_api, "/api/v1/imports/products", PRODUCTS).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        job = _upload(owner_api, "/api/v1/imports/products", PRODUCTS).json()
    assert viewer_api.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert other_api.get(f"/api/v1/jobs/{job['id']}").status_code == 404
    assert other_api.post(f"/api/v1/jobs/{job['id']}/retry").status_code == 404
    theirs = b"".join(other_api.get("/api/v1/exports/products").streaming_content).decode()
    assert "TEE-S" not in theirs


def test_failed_inventory_import_can_be_retried_after_the_cause_is_fixed(
        owner_api, workspace, django_capture_on_commit_callbacks):
    owner_api.post("/api/v1/inventory/locations", {"name": "Pune"})
    stock = "sku,location,on_hand\nTEE-S,Pune,12\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = _upload(owner_api, "/api/v1/imports/inventory", stock).json()
    failed = owner_api.get(f"/api/v1/jobs/{job['id']}").json()
    assert failed["state"] == "failed"
    assert failed["result"]["errors"][0]["message"] == "no variant has this SKU"
    with django_capture_on_commit_callbacks(execute=True):
        _upload(owner_api, "/api/v1/imports/products", PRODUCTS)
        retried = owner_api.post(f"/api/v1/jobs/{job['id']}/retry")
    assert retried.status_code == 202
    done = owner_api.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["state"] == "succeeded" and done["attempts"] == 2
    assert owner_api.post(f"/api/v1/jobs/{job['id']}/retry").status_code == 409
    exported = b"".join(owner_api.get("/api/v1/exports/inventory").streaming_content).decode()
    assert next(iter(csv.DictReader(io.StringIO(exported))))["on_hand"] == "12"


def test_exports_stream_csv(owner_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _upload(owner_api, "/api/v1/imports/products", PRODUCTS)
    response = owner_api.get("/api/v1/exports/products")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["sku"] for r in rows) == ["TEE-M", "TEE-S"]
    orders = owner_api.get("/api/v1/exports/orders")
    assert b"".join(orders.streaming_content).decode().startswith("order_number,placed_at")


@pytest.mark.parametrize("path", ["/api/v1/exports/orders", "/api/v1/jobs"])
def test_anonymous_requests_are_refused(client, db, path):
    assert client.get(path).status_code == 401


def test_a_queued_import_can_be_cancelled_then_retried(owner_api, workspace):
    job = _upload(owner_api, "/api/v1/imports/products", PRODUCTS).json()  # not yet run
    assert job["state"] == "queued"
    cancelled = owner_api.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert owner_api.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 409
    again = owner_api.post(f"/api/v1/jobs/{job['id']}/retry")
    assert again.status_code == 202 and again.json()["state"] == "queued"
    assert _skus(workspace.workspace.id) == set()


def test_a_large_upload_with_an_idempotency_key_is_accepted_once(
        owner_api, workspace, django_capture_on_commit_callbacks):
    rows = "".join(f"h-{i},Product {i},SKU-{i},10.00\n" for i in range(60_000))
    text = "handle,title,sku,price\n" + rows  # > 1 MiB, the limit of other bodies
    assert len(text) > 1024 * 1024
    key = {"Idempotency-Key": "upload-1"}
    first = owner_api.client.post(
        "/api/v1/imports/products", headers={**owner_api.headers, **key},
        data={"file": SimpleUploadedFile("big.csv", text.encode(), "text/csv")})
    again = owner_api.client.post(
        "/api/v1/imports/products", headers={**owner_api.headers, **key},
        data={"file": SimpleUploadedFile("big.csv", text.encode(), "text/csv")})
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(owner_api.get("/api/v1/jobs").json()["items"]) == 1


def _multipart(boundary: str, text: str) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"p.csv\"\r\nContent-Type: text/csv\r\n\r\n{text}\r\n"
            f"--{boundary}--\r\n").encode()


def test_a_retry_with_a_new_multipart_boundary_is_the_same_request(owner_api):
    """curl and HTTP libraries pick a random boundary per attempt: the retry still replays."""
    key = {"Idempotency-Key": "upload-boundary"}

    def post(boundary: str, text: str):
        return owner_api.client.generic(
            "POST", "/api/v1/imports/products", _multipart(boundary, text),
            content_type=f"multipart/form-data; boundary={boundary}",
            headers={**owner_api.headers, **key})

    first = post("----attempt1a7f", PRODUCTS)
    again = post("----attempt2c9e", PRODUCTS)
    assert first.status_code == again.status_code == 202, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = post("----attempt3d1b", PRODUCTS + "extra,Extra,,,EXTRA-1,1.00,18\n")
    assert other.status_code == 422
    assert other.json()["error"]["field"] == "Idempotency-Key"
