"""Image fixtures: real encoded images made with Pillow, one of them carrying GPS EXIF."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (40, 30), *,
                gps: bool = False) -> bytes:
    """An image of ``size`` in ``fmt``; with ``gps`` it carries EXIF GPS tags (as phones do)."""
    image = Image.new("RGB", size, (200, 80, 40))
    out = io.BytesIO()
    options = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (18.0, 31.0, 12.5), 3: "E",
                                      4: (73.0, 51.0, 24.0)})
        options["exif"] = exif.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def png_bytes(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG"), content_type="image/png")


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def media_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory of the test's own, so stored files can be listed and checked."""
    monkeypatch.setattr(settings, "CONFIG", dataclasses.replace(settings.CONFIG,
                                                                data_dir=tmp_path))
    return tmp_path / "media"


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
