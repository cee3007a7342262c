"""``/api/v1/products/{product_id}/images``: upload, list, change, delete, and the file itself.

Files are served only here, to authenticated callers of the product's workspace; there is no
public URL for them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from storesync.api.auth import require
from storesync.api.schemas import Strict
from storesync.catalog import image_services as services
from storesync.catalog import media, selectors
from storesync.catalog.models import ProductImage
from storesync.core.errors import NotFound, ValidationError
from storesync.core.permissions import Perm

router = Router(tags=["catalog"])


class ImageOut(Schema):
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    alt_text: str
    position: int
    width: int
    height: int
    format: str
    content_type: str
    size_bytes: int
    created_at: datetime
    src: str = Field(description="where an authenticated member downloads the file")


class ImagePatch(Strict):
    alt_text: str | None = Field(None, max_length=512)
    position: int | None = Field(None, ge=1, le=250)
    variant_id: uuid.UUID | None = None


def _out(image: ProductImage) -> dict[str, Any]:
    return {
        "id": image.id, "product_id": image.product_id, "variant_id": image.variant_id,
        "alt_text": image.alt_text, "position": image.position, "width": image.width,
        "height": image.height, "format": image.format, "content_type": image.content_type,
        "size_bytes": image.size_bytes, "created_at": image.created_at,
        "src": f"/api/v1/products/{image.product_id}/images/{image.id}/file",
    }


def _variant_id(raw: str) -> uuid.UUID | None:
    if not raw.strip():
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise ValidationError("not a variant id", field="variant_id") from None


@router.post("/{product_id}/images", response={201: ImageOut},
             summary="Upload an image (multipart: file, alt_text, variant_id)",
             description=f"JPEG, PNG, WebP or GIF, at most {media.MAX_IMAGE_BYTES // 2**20} MB. "
                         "The file is decoded and re-encoded: metadata such as EXIF GPS "
                         "positions is not kept.")
def upload_image(request: HttpRequest, product_id: str, file: File[UploadedFile],
                 alt_text: Form[str] = "", variant_id: Form[str] = "") -> Status:
    who = require(request, Perm.MANAGE_CATALOG)
    product = selectors.product_get(workspace_id=who.workspace_id, product_id=product_id)
    image = services.image_create(
        workspace_id=who.workspace_id, product_id=product.id, upload=file,
        declared_size=file.size, alt_text=alt_text, variant_id=_variant_id(variant_id),
        actor=who.actor)
    return Status(201, _out(image))


@router.get("/{product_id}/images", response=list[ImageOut],
            summary="A product's images in display order")
def list_images(request: HttpRequest, product_id: str) -> list[dict[str, Any]]:
    who = require(request, Perm.VIEW_ORDERS)
    return [_out(i) for i in selectors.image_list(workspace_id=who.workspace_id,
                                                  product_id=product_id)]


@router.get("/{product_id}/images/{image_id}", response=ImageOut, summary="Read an image's data")
def get_image(request: HttpRequest, product_id: str, image_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    return _out(selectors.image_get(workspace_id=who.workspace_id, product_id=product_id,
                                    image_id=image_id))


@router.get("/{product_id}/images/{image_id}/file", response={200: None},
            summary="Download the image file (members of the workspace only)")
def image_file(request: HttpRequest, product_id: str, image_id: str) -> FileResponse:
    who = require(request, Perm.VIEW_ORDERS)
    image = selectors.image_get(workspace_id=who.workspace_id, product_id=product_id,
                                image_id=image_id)
    try:
        handle = media.file_open(image.storage_key)
    except FileNotFoundError:
        raise NotFound("the image file is missing from the data directory") from None
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Disposition"] = f'inline; filename="{image.id}.{image.format}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["ETag"] = f'"{image.sha256}"'
    return response


@router.patch("/{product_id}/images/{image_id}", response=ImageOut,
              summary="Change alt text, position (1 = first) or the variant it shows")
def update_image(request: HttpRequest, product_id: str, image_id: str,
                 payload: ImagePatch) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_CATALOG)
    image = selectors.image_get(workspace_id=who.workspace_id, product_id=product_id,
                                image_id=image_id)
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise ValidationError("send the fields to change", field="body")
    if changes.get("alt_text", "") is None or changes.get("position", 1) is None:
        raise ValidationError("send a value", field="alt_text" if "alt_text" in changes
                              else "position")
    fresh = services.image_update(workspace_id=who.workspace_id, product_id=image.product_id,
                                  image_id=image.id, changes=changes, actor=who.actor)
    return _out(fresh)


@router.delete("/{product_id}/images/{image_id}", response={204: None},
               summary="Delete an image and its file")
def delete_image(request: HttpRequest, product_id: str, image_id: str) -> Status:
    who = require(request, Perm.MANAGE_CATALOG)
    image = selectors.image_get(workspace_id=who.workspace_id, product_id=product_id,
                                image_id=image_id)
    services.image_delete(workspace_id=who.workspace_id, product_id=image.product_id,
                          image_id=image.id, actor=who.actor)
    return Status(204, None)
