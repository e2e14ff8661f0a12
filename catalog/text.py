"""Cleaning and comparing names: titles, artists, albums. Pure functions, no Django."""

import re
import unicodedata

MAX_NAME_LENGTH = 255
UNKNOWN_ARTIST = "Unknown artist"  # the artist of a file whose tags name none
_SPACES = re.compile(r"\s+")


def clean_name(value: str | None, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """A name fit to show: no control or format characters, spaces folded, length bounded."""
    if not value:
        return ""
    text = str(value)
    # isprintable() is False for every Cc, Cf, Zl and Zp character: most names skip the walk
    if not text.isprintable():
        text = "".join(
            " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
        )
    return _SPACES.sub(" ", text).strip()[:max_length].strip()


def name_key(value: str | None) -> str:
    """The form names are matched on: case- and accent-insensitive, spaces folded.

    "Beyoncé  Knowles" and "beyonce knowles" have the same key.
    """
    without_marks = clean_name(value)
    if not without_marks.isascii():  # ASCII is its own NFKD form, with no combining marks
        decomposed = unicodedata.normalize("NFKD", without_marks)
        without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", without_marks.casefold()).strip()[:MAX_NAME_LENGTH]


def artist_unknown(name: str | None) -> bool:
    """Whether `name` is the placeholder artist of untagged files (one Artist row holds them
    all, but they are not one artist: per-artist caps leave them alone)."""
    return name_key(name) == name_key(UNKNOWN_ARTIST)


def title_from_filename(filename: str | None) -> str:
    """The fallback title: the file's base name without its extension, cleaned."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem, dot, extension = base.rpartition(".")
    if dot and stem and len(extension) <= 5:
        base = stem
    return clean_name(base.replace("_", " "))
