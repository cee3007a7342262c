"""Product images: decoded (not trusted), stripped of metadata, stored by random id, deleted."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from storesync.catalog import image_services as services
from storesync.catalog import media, selectors
from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor
from tests.catalog.conftest import image_bytes, stored_files

ACTOR = Actor.system("test")


def _create(stock, data, name="photo.jpg", **kwargs):
    ws, variants, _, _ = stock
    return services.image_create(workspace_id=ws, product_id=variants["KURTA-M"].product_id,
                                 upload=io.BytesIO(data), declared_size=len(data), actor=ACTOR,
                                 **kwargs)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_exif_is_gone_from_the_stored_photo(stock, media_dir, fmt):
    original = image_bytes(fmt, (64, 48), gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the phone's GPS
    image = _create(stock, original, alt_text=" Kurta, front ")
    files = stored_files(media_dir)
    assert len(files) == 1
    stored = files[0].read_bytes()
    decoded = Image.open(io.BytesIO(stored))
    assert decoded.format == fmt and decoded.size == (64, 48)
    assert not decoded.getexif() and b"Exif" not in stored and b"PhoneMaker" not in stored
    assert (image.format, image.width, image.height) == (fmt.lower(), 64, 48)
    assert image.alt_text == "Kurta, front" and image.position == 1
    assert image.size_bytes == len(stored)


def test_path_comes_from_workspace_and_random_id_never_the_filename(stock, media_dir):
    ws = stock[0]
    image = _create(stock, image_bytes("PNG"), name="../../etc/passwd.png")
    assert image.storage_key.startswith(f"products/{ws.hex}/")
    assert "passwd" not in image.storage_key and image.storage_key.endswith(".png")
    assert stored_files(media_dir) == [media_dir / image.storage_key]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_supported_format_is_kept_and_measured(stock, media_dir, fmt):
    image = _create(stock, image_bytes(fmt, (31, 17)))
    assert image.format == fmt.lower() and (image.width, image.height) == (31, 17)
    assert Image.open(media_dir / image.storage_key).format == fmt


def test_the_bytes_decide_the_type_not_the_name(stock, media_dir):
    image = _create(stock, image_bytes("PNG"), name="photo.jpg")  # a PNG called .jpg
    assert image.format == "png" and image.content_type == "image/png"


@pytest.mark.parametrize("data", [
    b"GIF89a this is not really a GIF",
    b"\xff\xd8\xff\xe0 a JPEG header and nothing else",
    b"<?php echo 'hello'; ?>",
    image_bytes("BMP"),  # decodable, but not a format we accept
])
def test_non_images_are_refused_and_nothing_is_stored(stock, media_dir, data):
    with pytest.raises(ValidationError) as caught:
        _create(stock, data)
    assert caught.value.field == "file"
    assert stored_files(media_dir) == []


def test_oversized_upload_is_refused_with_the_limit(stock, media_dir):
    data = b"\0" * (media.MAX_IMAGE_BYTES + 1)
    with pytest.raises(media.ImageTooLarge) as caught:
        _create(stock, data)
    assert caught.value.status == 413 and "10 MB" in caught.value.message
    with pytest.raises(media.ImageTooLarge):  # even if the size was not declared
        services.image_create(workspace_id=stock[0], upload=io.BytesIO(data), actor=ACTOR,
                              product_id=stock[1]["KURTA-M"].product_id)
    assert stored_files(media_dir) == []


def test_variant_must_belong_to_the_product(stock, media_dir, workspace):
    ws, variants, _, _ = stock
    image = _create(stock, image_bytes("PNG"), variant_id=variants["KURTA-L"].id)
    assert image.variant_id == variants["KURTA-L"].id
    other = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Other", variants=[VariantInput(sku="OTHER-1", price_minor=100)]))
    with workspace_scope(ws):
        other_variant = other.variants.get()
    with pytest.raises(NotFound) as caught:
        _create(stock, image_bytes("PNG"), variant_id=other_variant.id)
    assert caught.value.field == "variant_id"
    assert len(stored_files(media_dir)) == 1


def test_positions_move_and_delete_removes_the_file(stock, media_dir,
                                                    django_capture_on_commit_callbacks):
    ws, variants, _, _ = stock
    product_id = variants["KURTA-M"].product_id
    first, second, third = (_create(stock, image_bytes("PNG")) for _ in range(3))
    services.image_update(workspace_id=ws, product_id=product_id, image_id=third.id,
                          changes={"position": 1}, actor=ACTOR)
    order = [i.id for i in selectors.image_list(workspace_id=ws, product_id=product_id)]
    assert order == [third.id, first.id, second.id]
    with pytest.raises(ValidationError) as caught:
        services.image_update(workspace_id=ws, product_id=product_id, image_id=third.id,
                              changes={"position": 4}, actor=ACTOR)
    assert caught.value.field == "position"
    with django_capture_on_commit_callbacks(execute=True):
        services.image_delete(workspace_id=ws, product_id=product_id, image_id=third.id,
                              actor=ACTOR)
    assert not (media_dir / third.storage_key).exists()
    assert len(stored_files(media_dir)) == 2
    remaining = selectors.image_list(workspace_id=ws, product_id=product_id)
    assert [(i.id, i.position) for i in remaining] == [(first.id, 1), (second.id, 2)]


def test_another_workspace_cannot_reach_an_image(stock, media_dir, other_workspace):
    image = _create(stock, image_bytes("PNG"))
    with pytest.raises(NotFound):
        selectors.image_get(workspace_id=other_workspace.workspace.id,
                            product_id=image.product_id, image_id=image.id)
    with pytest.raises(NotFound):
        services.image_delete(workspace_id=other_workspace.workspace.id,
                              product_id=image.product_id, image_id=image.id, actor=ACTOR)
    assert (media_dir / image.storage_key).exists()


def test_animated_gif_keeps_its_frames_but_not_its_comment(stock, media_dir):
    frames = [Image.new("RGB", (20, 20), (i * 60, 255 - i * 60, 0)) for i in range(4)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=120,
                   loop=0, comment=b"shot at 12 MG Road")
    image = _create(stock, out.getvalue())
    stored = (media_dir / image.storage_key).read_bytes()
    assert Image.open(io.BytesIO(stored)).n_frames == 4
    assert b"MG Road" not in stored


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_broken_after_its_first_frame_is_refused(stock, media_dir, fmt):
    frames = [Image.new("RGB", (64, 48), (i * 60, 255 - i * 60, 7 * i)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=50,
                   loop=0)
    data = out.getvalue()
    broken = data[: int(len(data) * 0.8)]
    with pytest.raises(ValidationError) as caught:
        _create(stock, broken)
    assert caught.value.field == "file"
    assert stored_files(media_dir) == []
