"""Cover art embedded in audio files: found with mutagen at import, stored resized as JPEG.

Stored under MEDIA_ROOT/covers/ by track id, so a track's cover needs no database column: the
picture view looks for the file and falls back to the drawn picture. A hostile or odd picture
never stops an import: anything that cannot be read is ignored.
"""

from __future__ import annotations

import base64
import io
import logging
import os
from pathlib import Path

import mutagen
from django.conf import settings

logger = logging.getLogger(__name__)

MAX_SIDE = 512
MAX_EMBEDDED_BYTES = 20 * 1024 * 1024
FRONT_COVER = 3  # the ID3 / FLAC picture type for "cover (front)"


def cover_path(track_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "covers" / f"{track_id % 1000:03d}" / f"{track_id}.jpg"


def embedded_picture(path: Path) -> bytes | None:
    """The bytes of the file's embedded picture (the front cover when several), or None."""
    try:
        audio = mutagen.File(str(path))
    except Exception as exc:  # mutagen raises many kinds of error on odd files
        logger.info("pictures of %s unreadable: %s", path.name, exc)
        return None
    if audio is None:
        return None
    pictures = []  # (is front cover, data)
    for picture in getattr(audio, "pictures", None) or []:  # FLAC
        pictures.append((picture.type == FRONT_COVER, picture.data))
    tags = audio.tags
    if tags is not None:
        try:
            for frame in tags.getall("APIC") if hasattr(tags, "getall") else []:  # ID3: MP3, AIFF
                pictures.append((frame.type == FRONT_COVER, frame.data))
            vorbis = tags.get("metadata_block_picture") if hasattr(tags, "get") else None
            for encoded in vorbis or []:  # Ogg Vorbis / Opus
                pictures.append(_vorbis_picture(encoded))
        except Exception as exc:
            logger.info("pictures of %s unreadable: %s", path.name, exc)
    pictures = [(front, data) for front, data in pictures if data]
    if not pictures:
        return None
    pictures.sort(key=lambda item: not item[0])
    return pictures[0][1]


def _vorbis_picture(encoded: str) -> tuple[bool, bytes]:
    from mutagen.flac import Picture

    try:
        picture = Picture(base64.b64decode(encoded))
    except Exception:
        return (False, b"")
    return (picture.type == FRONT_COVER, picture.data)


def cover_store(*, track_id: int, audio_path: Path) -> bool:
    """Store the audio file's embedded picture for this track, resized to fit 512 x 512.

    True when a cover was stored; False when the file has none or it is not a readable image.
    Call it outside any transaction (file I/O); running it again replaces the file atomically.
    """
    data = embedded_picture(audio_path)
    if not data or len(data) > MAX_EMBEDDED_BYTES:
        return False
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 40_000_000:
                return False
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            rgb = image.convert("RGB")
            target = cover_path(track_id)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".part")
            rgb.save(partial, "JPEG", quality=85, optimize=True)
            os.replace(partial, target)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.info("cover of track %s not stored: %s", track_id, exc)
        return False
    return True
