"""Thumbnails: a JPEG at most 320 px on its longer side, upright (EXIF orientation
applied), made from a verified photo's bytes and stored beside them."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

SIZE = 320
SUFFIX = ".thumb.jpg"


def register_heic() -> None:
    """Let Pillow open HEIC (iPhone) photos, through pillow-heif."""
    from pillow_heif import register_heif_opener

    register_heif_opener()


def make_thumbnail(original: bytes) -> bytes:
    """The thumbnail's JPEG bytes. Raises OSError (or ValueError) for what is not an image."""
    with Image.open(io.BytesIO(original)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((SIZE, SIZE))
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def thumbnail_key(key: str) -> str:
    return key + SUFFIX
