"""Product images through the REST API: multipart upload, members-only download, deletion."""

from __future__ import annotations

import io
import os

import pytest
from django.test import Client
from PIL import Image

from tests.api.test_commerce import PRODUCT
from tests.catalog.conftest import image_bytes, stored_files, upload


@pytest.fixture
def product(owner_api):
    return owner_api.post("/api/v1/products", PRODUCT).json()


def _upload(api, product, file, **fields):
    return api.client.post(f"/api/v1/products/{product['id']}/images",
                           data={"file": file, **fields}, headers=api.headers)


def test_upload_download_and_delete(owner_api, viewer_api, product, media_dir,
                                    django_capture_on_commit_callbacks):
    blue = product["variants"][1]["id"]
    response = _upload(owner_api, product, upload("IMG_0001.jpg", image_bytes(
        "JPEG", (80, 60), gps=True)), alt_text="Blue saree, folded", variant_id=blue)
    assert response.status_code == 201, response.content
    image = response.json()
    assert (image["width"], image["height"], image["format"]) == (80, 60, "jpeg")
    assert image["variant_id"] == blue and image["alt_text"] == "Blue saree, folded"
    listed = viewer_api.get(f"/api/v1/products/{product['id']}/images").json()
    assert [i["id"] for i in listed] == [image["id"]]
    shown = viewer_api.get(f"/api/v1/products/{product['id']}").json()["images"]
    assert [(i["id"], i["src"]) for i in shown] == [(image["id"], image["src"])]
    download = viewer_api.get(image["src"])
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    body = b"".join(download.streaming_content)
    assert Image.open(io.BytesIO(body)).size == (80, 60) and b"Exif" not in body
    assert Client().get(image["src"]).status_code == 401  # no token, no image
    moved = owner_api.patch(f"/api/v1/products/{product['id']}/images/{image['id']}",
                            {"alt_text": "Blue", "variant_id": None})
    assert moved.json()["alt_text"] == "Blue" and moved.json()["variant_id"] is None
    assert viewer_api.delete(
        f"/api/v1/products/{product['id']}/images/{image['id']}").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        gone = owner_api.delete(f"/api/v1/products/{product['id']}/images/{image['id']}")
    assert gone.status_code == 204
    assert stored_files(media_dir) == []
    assert owner_api.get(image["src"]).status_code == 404


def test_text_disguised_as_jpeg_is_refused_naming_the_field(owner_api, product, media_dir):
    response = _upload(owner_api, product, upload("cat.jpg", b"#!/bin/sh\necho hi\n" * 50))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "file"
    assert "JPEG, PNG, WebP or GIF" in response.json()["error"]["message"]
    assert stored_files(media_dir) == []
    missing = owner_api.client.post(f"/api/v1/products/{product['id']}/images",
                                    data={"alt_text": "x"}, headers=owner_api.headers)
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"


def test_oversized_upload_says_the_limit(owner_api, product, media_dir):
    big = upload("huge.jpg", b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024))
    response = _upload(owner_api, product, big)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["field"] == "file" and "10 MB" in error["message"]
    assert stored_files(media_dir) == []


def test_a_body_past_the_upload_limit_is_refused_before_reading(owner_api, product):
    response = owner_api.client.post(
        f"/api/v1/products/{product['id']}/images", data=b"x",
        content_type="multipart/form-data; boundary=x", headers=owner_api.headers,
        CONTENT_LENGTH=str(11 * 1024 * 1024))
    assert response.status_code == 413
    assert "at most" in response.json()["error"]["message"]
    json_body = owner_api.client.post(
        "/api/v1/products", data=b"{}", content_type="application/json",
        headers=owner_api.headers, CONTENT_LENGTH=str(2 * 1024 * 1024))
    assert json_body.status_code == 413  # JSON endpoints keep the small limit


def test_other_workspace_cannot_upload_or_read(owner_api, other_api, product, media_dir):
    image = _upload(owner_api, product, upload("a.png", image_bytes("PNG"))).json()
    assert other_api.get(image["src"]).status_code == 404
    assert _upload(other_api, product, upload("b.png", image_bytes("PNG"))).status_code == 404
    assert len(stored_files(media_dir)) == 1


def test_a_retried_upload_with_an_idempotency_key_stores_one_image(owner_api, product,
                                                                    media_dir):
    noise = Image.frombytes("RGB", (800, 800), os.urandom(800 * 800 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    data = out.getvalue()
    assert len(data) > 1024 * 1024  # past the in-memory body limit of JSON requests
    key = {"Idempotency-Key": "upload-1"}
    first = owner_api.client.post(f"/api/v1/products/{product['id']}/images",
                                  data={"file": upload("noise.png", data)},
                                  headers={**owner_api.headers, **key})
    again = owner_api.client.post(f"/api/v1/products/{product['id']}/images",
                                  data={"file": upload("noise.png", data)},
                                  headers={**owner_api.headers, **key})
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert first.json()["width"] == 800 and len(stored_files(media_dir)) == 1
