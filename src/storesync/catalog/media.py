"""Product image files: decode, clean and store them under ``<data dir>/media/``.

The uploaded bytes are never trusted: Pillow must decode them as JPEG, PNG, WebP or GIF (the
declared content type and file name are ignored), and what is stored is a fresh encoding of
the decoded pixels, so no metadata of the original survives.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from PIL import Image, ImageOps

from storesync.core.errors import StoresyncError, ValidationError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 50_000_000  # 50 megapixels: more than any phone, less than a bomb
FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}


class ImageTooLarge(StoresyncError):
    status = 413
    code = "payload_too_large"


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    format: str  # one of ImageFormat
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def media_root() -> Path:
    """``<STORESYNC_DATA_DIR>/media``: product images, never served as static files."""
    return Path(settings.CONFIG.data_dir) / "media"


def _open(raw: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(raw), formats=list(FORMATS))
            frames = getattr(image, "n_frames", 1)
            if image.width * image.height * frames > MAX_IMAGE_PIXELS:
                raise ImageTooLarge(
                    f"an image has at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels "
                    "(all frames of an animation together)", field="file")
            # Decode every frame now: an animation's later frames are read lazily otherwise.
            for frame in range(frames):
                image.seek(frame)
                image.load()
            image.seek(0)
        except ImageTooLarge:
            raise
        # Pillow's parsers raise many types on hostile input (OSError, struct.error,
        # IndexError, ...): whatever it is, the upload is not an image we can use.
        except Exception:
            raise _undecodable() from None
    return image


def _undecodable() -> ValidationError:
    return ValidationError("not a JPEG, PNG, WebP or GIF image (the file could not be decoded "
                           "as one)", field="file")


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Re-encode the pixels alone. Photos from phones carry EXIF with the GPS position of where
    they were taken (often the seller's home); a fresh encoding drops EXIF, XMP, ICC-embedded
    comments and text chunks, so a product photo cannot disclose it."""
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if fmt == "jpeg":
        # Orientation lives in EXIF: apply it to the pixels before EXIF is dropped.
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options = {"quality": 90, "optimize": True}
    elif fmt in ("gif", "webp") and getattr(image, "n_frames", 1) > 1:
        options = {"save_all": True, "loop": image.info.get("loop", 0),
                   "duration": image.info.get("duration", 100)}
        if fmt == "webp":
            options["lossless"] = False
    elif fmt == "png":
        options = {"optimize": True}
    # Pillow copies some metadata (EXIF, XMP, comments) from ``info`` into the new file.
    image.info = {}
    image.save(out, format=fmt.upper(), **options)
    return out.getvalue()


def image_clean(upload: IO[bytes], *, declared_size: int | None = None) -> CleanImage:
    """Decode an upload and return a metadata-free re-encoding in the same format.

    Raises ``ImageTooLarge`` (413) past ``MAX_IMAGE_BYTES`` or ``MAX_IMAGE_PIXELS`` and
    ``ValidationError`` (400, field ``file``) when the bytes are not a supported image.
    """
    limit_mb = MAX_IMAGE_BYTES // (1024 * 1024)
    if declared_size is not None and declared_size > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"an image is at most {limit_mb} MB", field="file")
    raw = upload.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"an image is at most {limit_mb} MB", field="file")
    if not raw:
        raise ValidationError("the file is empty", field="file")
    image = _open(raw)
    fmt = FORMATS.get(image.format or "")
    if fmt is None:
        raise ValidationError("not a JPEG, PNG, WebP or GIF image", field="file")
    try:
        data = _encode(image, fmt)
    except Exception:  # a frame that decoded but cannot be re-encoded: still unusable
        raise _undecodable() from None
    width, height = Image.open(io.BytesIO(data)).size
    return CleanImage(data=data, format=fmt, width=width, height=height)


def storage_key_for(workspace_id: uuid.UUID, fmt: str) -> str:
    """A path made of the workspace and a random id: nothing a user typed reaches the disk."""
    return f"products/{workspace_id.hex}/{uuid.uuid4().hex}.{EXTENSIONS[fmt]}"


def _path(storage_key: str) -> Path:
    root = media_root().resolve()
    path = (root / storage_key).resolve()
    if root not in path.parents:
        raise ValueError("storage key outside the media directory")
    return path


def file_write(storage_key: str, data: bytes) -> None:
    """Write atomically (temporary file, then rename), readable by the owner only."""
    path = _path(storage_key)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def file_open(storage_key: str) -> IO[bytes]:
    return _path(storage_key).open("rb")


def file_remove(storage_key: str) -> None:
    _path(storage_key).unlink(missing_ok=True)
