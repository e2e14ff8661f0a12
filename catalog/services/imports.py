"""track_import: the one way audio becomes a track (admin, bulk page, command, API);
upload_import: the same for a file that came in over HTTP (admin's upload page, the API)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import mutagen
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.art.covers import cover_store
from catalog.audio import errors
from catalog.audio.errors import AudioError
from catalog.audio.probe import AudioHeader, probe
from catalog.models import Album, Artist, Track
from catalog.text import UNKNOWN_ARTIST, clean_name, name_key, title_from_filename
from core.queue import enqueue_on_commit

logger = logging.getLogger(__name__)

UNTITLED = "Untitled"
COPY_CHUNK = 1 << 20

IMPORTED = "imported"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass(frozen=True)
class ImportResult:
    result: str  # imported | duplicate | rejected
    track: Track | None = None
    error_code: str | None = None
    detail: str = ""

    @property
    def track_id(self) -> int | None:
        return self.track.pk if self.track else None


@dataclass(frozen=True)
class Tags:
    title: str = ""
    artist: str = ""
    album: str = ""
    year: int | None = None


def track_import(
    *,
    source: Path,
    original_name: str,
    move: bool = False,
    too_large: bool = False,
    title: str = "",
    artist_name: str = "",
    album_title: str = "",
) -> ImportResult:
    """Store an audio file as a new `pending` track and queue its analysis after commit.

    Decided by content alone (libsndfile's reading of the header), never by the file's name or
    claimed type; the stored name is generated. Outcomes (docs/api.md, "Upload outcomes"):
    `imported`, `duplicate` (same sha256 as an existing track; nothing stored) or `rejected` with
    a code (`too_large`, `unsupported_format`, `too_long`, `too_short`; nothing stored).

    `move=True` takes ownership of `source` (an upload's temporary file) and renames it into place;
    otherwise the file is copied. Explicit `title`/`artist_name`/`album_title` win over tags.
    Safe to retry: the same bytes again are a duplicate, never a second track.
    """
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if too_large or _size(source) > limit:
        _discard(source, move)
        return ImportResult(
            REJECTED,
            error_code=errors.TOO_LARGE,
            detail=f"the file is over the {settings.MAX_UPLOAD_MB} MB upload limit",
        )

    staged = _staging_path()
    try:
        digest, size = _stage(source, staged, move=move)
        header = probe(
            staged,
            min_seconds=settings.MIN_AUDIO_SECONDS,
            max_seconds=settings.MAX_AUDIO_SECONDS,
        )
    except AudioError as exc:
        staged.unlink(missing_ok=True)
        return ImportResult(REJECTED, error_code=exc.code, detail=exc.detail)
    except OSError:
        staged.unlink(missing_ok=True)
        raise

    existing = Track.objects.filter(sha256=digest).only("pk").first()
    if existing is not None:
        staged.unlink(missing_ok=True)
        return _duplicate(existing)

    tags = read_tags(staged)
    stored_name = f"audio/{digest[:2]}/{uuid.uuid4().hex}.{header.extension}"
    stored_path = Path(settings.MEDIA_ROOT) / stored_name
    stored_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, stored_path)

    try:
        track = _create_track(
            stored_name=stored_name,
            digest=digest,
            size=size,
            header=header,
            original_name=original_name,
            title=clean_name(title) or tags.title or title_from_filename(original_name) or UNTITLED,
            artist_name=clean_name(artist_name) or tags.artist or UNKNOWN_ARTIST,
            album_title=clean_name(album_title) or tags.album,
            year=tags.year,
        )
    except IntegrityError:
        # Another request stored the same bytes between our check and our insert.
        stored_path.unlink(missing_ok=True)
        existing = Track.objects.filter(sha256=digest).only("pk").first()
        if existing is None:
            raise
        return _duplicate(existing)
    except BaseException:
        stored_path.unlink(missing_ok=True)
        raise
    cover_store(track_id=track.pk, audio_path=stored_path)
    return ImportResult(IMPORTED, track=track)


def upload_import(
    *, upload: UploadedFile, title: str = "", artist_name: str = "", album_title: str = ""
) -> ImportResult:
    """track_import for an uploaded file (catalog.uploads streamed it to a temporary file).

    Takes the temporary file over (renamed into place, not copied) and closes the upload, so
    nothing is left behind whatever the outcome; an upload cut off at the size limit is
    `rejected` with `too_large`.
    """
    # the import moves the temporary file into place; closing the upload lets go of it now
    # rather than in a finaliser that finds it gone
    with upload:
        return track_import(
            source=Path(upload.temporary_file_path()),
            original_name=upload.name,
            move=True,
            too_large=getattr(upload, "too_large", False),
            title=title,
            artist_name=artist_name,
            album_title=album_title,
        )


def _create_track(
    *,
    stored_name: str,
    digest: str,
    size: int,
    header: AudioHeader,
    original_name: str,
    title: str,
    artist_name: str,
    album_title: str,
    year: int | None,
) -> Track:
    from catalog.tasks import analyse_track

    with transaction.atomic():
        artist = artist_get_or_create(name=artist_name)
        album = album_get_or_create(artist=artist, title=album_title, year=year)
        track = Track.objects.create(
            title=title,
            title_key=name_key(title),
            artist=artist,
            album=album,
            duration_s=round(header.duration_s, 3) if header.frames else None,
            audio=stored_name,
            sha256=digest,
            audio_format=header.label,
            mime_type=header.mime_type,
            sample_rate=header.sample_rate,
            channels=header.channels,
            size_bytes=size,
            original_filename=clean_name(original_name),
            status=Track.Status.PENDING,
            status_changed_at=timezone.now(),
        )
        enqueue_on_commit(analyse_track, track.pk)
    return track


def track_metadata_only(*, title: str, artist_name: str, album_title: str = "") -> Track:
    """A track known by name only (imported history, experiments): status `no_audio`, no file.

    Never recommended (nothing to play), but its listens still teach the model.
    """
    title = clean_name(title) or UNTITLED
    with transaction.atomic():
        artist = artist_get_or_create(name=artist_name)
        return Track.objects.create(
            title=title,
            title_key=name_key(title),
            artist=artist,
            album=album_get_or_create(artist=artist, title=album_title),
            status=Track.Status.NO_AUDIO,
        )


def artist_get_or_create(*, name: str) -> Artist:
    """The artist whose name matches `name` case-, accent- and space-insensitively, or a new one."""
    name = clean_name(name) or UNKNOWN_ARTIST
    artist, _ = Artist.objects.get_or_create(name_key=name_key(name), defaults={"name": name})
    return artist


def album_get_or_create(*, artist: Artist, title: str, year: int | None = None) -> Album | None:
    title = clean_name(title)
    if not title:
        return None
    album, created = Album.objects.get_or_create(
        artist=artist, title_key=name_key(title), defaults={"title": title, "year": year}
    )
    if not created and album.year is None and year is not None:
        Album.objects.filter(pk=album.pk).update(year=year)
        album.year = year
    return album


def read_tags(path: Path) -> Tags:
    """Title, artist, album and year from the file's tags; empty when there are none or the tags
    cannot be read (a hostile file's tags never stop an import)."""
    try:
        audio = mutagen.File(str(path), easy=True)
    except Exception as exc:  # mutagen raises many kinds of error on odd files
        logger.info("tags of %s unreadable: %s", path.name, exc)
        return Tags()
    if audio is None or not audio.tags:
        return Tags()

    def first(key: str) -> str:
        try:
            values = audio.tags.get(key) or []
        except Exception:
            return ""
        return clean_name(str(values[0])) if values else ""

    year_text = first("date")[:4]
    return Tags(
        title=first("title"),
        artist=first("artist"),
        album=first("album"),
        year=int(year_text) if year_text.isdigit() and 1000 <= int(year_text) <= 9999 else None,
    )


def _duplicate(existing: Track) -> ImportResult:
    return ImportResult(
        DUPLICATE,
        track=existing,
        error_code=errors.DUPLICATE,
        detail=f"the same audio is already track {existing.pk}",
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _staging_path() -> Path:
    folder = Path(settings.FILE_UPLOAD_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{uuid.uuid4().hex}.part"


def _stage(source: Path, staged: Path, *, move: bool) -> tuple[str, int]:
    """Bring the file into the data folder and hash it, reading it once."""
    digest = hashlib.sha256()
    size = 0
    if move:
        try:
            os.replace(source, staged)
        except OSError:  # another filesystem: copy, then drop the original
            shutil.move(source, staged)
        with staged.open("rb") as handle:
            while chunk := handle.read(COPY_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size
    with source.open("rb") as reader, staged.open("wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
    return digest.hexdigest(), size


def _discard(source: Path, move: bool) -> None:
    if move:
        Path(source).unlink(missing_ok=True)
