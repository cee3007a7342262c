"""Writes for product images: upload (decode, strip, store), change alt text/position/variant,
delete (the file goes with the row, after commit)."""

from __future__ import annotations

import uuid
from typing import IO, Any

from django.db import transaction
from django.db.models import F, Max

from storesync.catalog import media
from storesync.catalog.models import Product, ProductImage, Variant
from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security import audit

MAX_IMAGES_PER_PRODUCT = 250  # Shopify's limit
MAX_ALT = 512


def _alt(alt_text: str) -> str:
    alt = alt_text.strip()
    if len(alt) > MAX_ALT:
        raise ValidationError(f"alt text is at most {MAX_ALT} characters", field="alt_text")
    return alt


def _variant(product: Product, variant_id: uuid.UUID | None) -> Variant | None:
    if variant_id is None:
        return None
    variant = Variant.objects.filter(id=variant_id, product_id=product.id).first()
    if variant is None:
        raise NotFound("no such variant of this product", field="variant_id")
    return variant


def image_create(*, workspace_id: uuid.UUID, product_id: uuid.UUID, upload: IO[bytes],
                 declared_size: int | None = None, alt_text: str = "",
                 variant_id: uuid.UUID | None = None, actor: audit.Actor) -> ProductImage:
    """Store an uploaded image as the product's last one.

    The bytes must decode as JPEG, PNG, WebP or GIF (``ValidationError`` on ``file``); over
    ``media.MAX_IMAGE_BYTES`` is ``ImageTooLarge`` (413). What is stored is a re-encoding
    without metadata. If the row cannot be saved, the file is removed again.
    """
    alt = _alt(alt_text)
    with workspace_scope(workspace_id):
        product = Product.objects.filter(id=product_id).first()
        if product is None:
            raise NotFound("no such product")
        variant = _variant(product, variant_id)
        clean = media.image_clean(upload, declared_size=declared_size)
        key = media.storage_key_for(workspace_id, clean.format)
        media.file_write(key, clean.data)
        try:
            with transaction.atomic():
                # Lock the product so two uploads do not take the same position.
                Product.objects.select_for_update().filter(id=product.id).first()
                images = ProductImage.objects.filter(product_id=product.id)
                if images.count() >= MAX_IMAGES_PER_PRODUCT:
                    raise ValidationError(f"a product has at most {MAX_IMAGES_PER_PRODUCT} "
                                          "images", field="file")
                last = images.aggregate(last=Max("position"))["last"] or 0
                return ProductImage.objects.create(
                    workspace_id=workspace_id, product=product, variant=variant,
                    storage_key=key, format=clean.format, width=clean.width,
                    height=clean.height, size_bytes=len(clean.data), sha256=clean.sha256,
                    alt_text=alt, position=last + 1)
        except BaseException:
            media.file_remove(key)
            raise


def image_update(*, workspace_id: uuid.UUID, product_id: uuid.UUID, image_id: uuid.UUID,
                 changes: dict[str, Any], actor: audit.Actor) -> ProductImage:
    """Change ``alt_text``, ``position`` (1 = first; the others shift) or ``variant_id``."""
    unknown = set(changes) - {"alt_text", "position", "variant_id"}
    if unknown:
        raise ValidationError("not a field that can be changed here", field=sorted(unknown)[0])
    with workspace_scope(workspace_id), transaction.atomic():
        image = (ProductImage.objects.select_for_update().select_related("product")
                 .filter(id=image_id, product_id=product_id).first())
        if image is None:
            raise NotFound("no such image")
        if "alt_text" in changes:
            image.alt_text = _alt(str(changes["alt_text"]))
        if "variant_id" in changes:
            image.variant = _variant(image.product, changes["variant_id"])
        if "position" in changes:
            _move(image, changes["position"])
        image.save()
    return image


def _move(image: ProductImage, position: object) -> None:
    siblings = ProductImage.objects.filter(product_id=image.product_id)
    count = siblings.count()
    if not isinstance(position, int) or not 1 <= position <= count:
        raise ValidationError(f"a position from 1 to {count}", field="position")
    if position < image.position:
        siblings.filter(position__gte=position, position__lt=image.position).update(
            position=F("position") + 1)
    elif position > image.position:
        siblings.filter(position__gt=image.position, position__lte=position).update(
            position=F("position") - 1)
    image.position = position


def image_delete(*, workspace_id: uuid.UUID, product_id: uuid.UUID, image_id: uuid.UUID,
                 actor: audit.Actor) -> None:
    """Delete the image; its file is removed once the deletion has committed."""
    with workspace_scope(workspace_id), transaction.atomic():
        image = ProductImage.objects.filter(id=image_id, product_id=product_id).first()
        if image is None:
            raise NotFound("no such image")
        key, position = image.storage_key, image.position
        image.delete()
        ProductImage.objects.filter(product_id=product_id, position__gt=position).update(
            position=F("position") - 1)
        transaction.on_commit(lambda: media.file_remove(key))
