"""Small listening-history files in every format we read, made up here (no real personal data),
each with the listens it must import: (artist, title, listened_at, ms_played, completed,
skipped)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

T = datetime(2024, 1, 31, 18, 22, 5, tzinfo=UTC)


def at(minutes: int, seconds: int = 5) -> datetime:
    return T.replace(minute=(22 + minutes) % 60, second=seconds)


def spotify_extended() -> tuple[list[dict], list[tuple], int]:
    """Entries, expected listens, and how many entries are left out (podcasts)."""

    def entry(minutes, track, artist, ms, reason_end, skipped=None, **extra):
        return {"ts": at(minutes).strftime("%Y-%m-%dT%H:%M:%SZ"), "username": "spotify-name",
                "platform": "Android OS", "ms_played": ms, "conn_country": "NL",
                "ip_addr": "192.0.2.7", "user_agent_decrypted": "unknown",
                "master_metadata_track_name": track, "master_metadata_album_artist_name": artist,
                "master_metadata_album_album_name": "An Album", "spotify_track_uri": None,
                "episode_name": None, "episode_show_name": None, "reason_start": "clickrow",
                "reason_end": reason_end, "shuffle": False, "skipped": skipped,
                "offline": False, "incognito_mode": False, **extra}  # fmt: skip

    entries = [
        entry(0, "Halo", "Beyoncé", 261_000, "trackdone", False),
        entry(5, "Creep", "Radiohead", 4_000, "fwdbtn", True),
        entry(6, "Creep", "Radiohead", 95_000, "fwdbtn", False),  # past 30 s: partial
        entry(8, "Airbag", "Radiohead", 120_000, "endplay", True),  # skipped flag
        entry(10, "Airbag", "Radiohead", 61_000, "logout", None),  # partial
        entry(
            12,
            None,
            None,
            1_800_000,
            "trackdone",
            None,
            episode_name="Episode 12",
            episode_show_name="A Show",
        ),
    ]
    expected = [
        ("Beyoncé", "Halo", at(0), 261_000, True, False),
        ("Radiohead", "Creep", at(5), 4_000, False, True),
        ("Radiohead", "Creep", at(6), 95_000, False, False),
        ("Radiohead", "Airbag", at(8), 120_000, False, True),
        ("Radiohead", "Airbag", at(10), 61_000, False, False),
    ]
    return entries, expected, 1


def spotify_plain() -> tuple[list[dict], list[tuple]]:
    entries = [
        {"endTime": "2024-01-31 18:25", "artistName": "Björk", "trackName": "Jóga",
         "msPlayed": 305_000},
        {"endTime": "2024-01-31 18:31", "artistName": "Björk", "trackName": "Hunter",
         "msPlayed": 12_000},
    ]  # fmt: skip
    expected = [
        ("Björk", "Hunter", T.replace(minute=31, second=0), 12_000, False, True),
        ("Björk", "Jóga", T.replace(minute=25, second=0), 305_000, False, False),
    ]
    return entries, expected


def spotify_zip(path: Path) -> tuple[list[tuple], int]:
    entries, expected, left_out = spotify_extended()
    with zipfile.ZipFile(path, "w") as archive:
        folder = "Spotify Extended Streaming History/"
        archive.writestr(folder + "Streaming_History_Audio_2023.json", json.dumps(entries[:3]))
        archive.writestr(folder + "Streaming_History_Audio_2024.json", json.dumps(entries[3:]))
        archive.writestr(folder + "Streaming_History_Video_2024.json", json.dumps([{"x": 1}]))
        archive.writestr(folder + "ReadMeFirst.pdf", b"%PDF-1.4")
    return expected, left_out


def listenbrainz() -> tuple[list[dict], list[tuple]]:
    def listen(minutes, artist, track):
        return {"listened_at": int(at(minutes).timestamp()), "recording_msid": "x",
                "track_metadata": {"artist_name": artist, "track_name": track,
                                   "release_name": "Kid A",
                                   "additional_info": {"duration_ms": 240_000}}}  # fmt: skip

    listens = [listen(0, "Radiohead", "Idioteque"), listen(4, "Sigur Rós", "Hoppípolla")]
    expected = [
        ("Radiohead", "Idioteque", at(0), None, False, False),
        ("Sigur Rós", "Hoppípolla", at(4), None, False, False),
    ]
    return listens, expected


def lastfm_with_header() -> tuple[str, list[tuple]]:
    first, second = int(at(0).timestamp()), int(at(3).timestamp())
    text = (
        "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
        f'{first},"31 Jan 2024, 18:22",Radiohead,,OK Computer,,Airbag,\n'
        f'{second},"31 Jan 2024, 18:25","Crosby, Stills & Nash",,CSN,,Helplessly Hoping,\n'
    )
    expected = [
        ("Crosby, Stills & Nash", "Helplessly Hoping", at(3), None, False, False),
        ("Radiohead", "Airbag", at(0), None, False, False),
    ]
    return text, expected


def lastfm_headerless() -> tuple[str, list[tuple]]:
    text = (
        "Radiohead,OK Computer,Airbag,31 Jan 2024 18:22\n"
        "Múm,Finally We Are No One,Green Grass of Tunnel,01 Feb 2024 09:05\n"
    )
    expected = [
        ("Múm", "Green Grass of Tunnel", datetime(2024, 2, 1, 9, 5, tzinfo=UTC), None, False,
         False),
        ("Radiohead", "Airbag", T.replace(second=0), None, False, False),
    ]  # fmt: skip
    return text, expected


def as_json_lines(items: list[dict]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()
