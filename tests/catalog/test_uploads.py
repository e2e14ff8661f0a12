"""POST /api/tracks/ answers exactly as the upload outcome table of docs/api.md, for a file
built for every row."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import AudioFeatures, Track
from tests.helpers import audio, contract_files

pytestmark = pytest.mark.django_db(transaction=True)  # inline tasks run at commit, as in the demo


def upload(client, name, data, **fields):
    return client.post(
        "/api/tracks/",
        {"audio": SimpleUploadedFile(name, data, content_type="audio/mpeg"), **fields},
    )


def stored_audio_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def staged_files() -> set[Path]:
    return set(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir())


@pytest.mark.parametrize(
    ("name", "data"), contract_files.valid_files(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_valid_audio_in_every_format_is_201_and_done(staff_client, name, data):
    response = upload(staff_client, name, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    # tasks inline: the response shows the finished analysis
    assert body["analysis"]["status"] == "done", body["analysis"]
    assert len(body["vector"]) == 16
    assert body["audio_url"] == f"/api/tracks/{body['id']}/audio/"
    track = Track.objects.get(pk=body["id"])
    # the stored name is generated, never the client's
    assert Path(track.audio.name).stem != Path(name).stem
    assert Path(track.audio.name).suffix in {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"}
    assert AudioFeatures.objects.filter(track=track).count() == 1


def test_refused_files_get_their_code_and_store_nothing(staff_client, settings):
    settings.MAX_AUDIO_SECONDS = 10
    stored_before, staged_before = stored_audio_files(), staged_files()
    for name, data, status, code in contract_files.refused_files(max_audio_seconds=10):
        response = upload(staff_client, name, data)
        assert response.status_code == status, (name, response.json())
        body = response.json()
        assert body["error_code"] == code, (name, body)
        assert body["audio"]
        assert body["detail"]
    assert Track.objects.count() == 0
    assert stored_audio_files() == stored_before
    assert staged_files() == staged_before


@pytest.mark.parametrize(
    ("name", "data", "code"),
    contract_files.failing_files(),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_header_fine_body_bad_is_201_then_failed_with_code(staff_client, name, data, code):
    response = upload(staff_client, name, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["analysis"]["status"] == "failed"
    assert body["analysis"]["error_code"] == code
    assert body["analysis"]["detail"]
    assert body["features"] is None
    assert body["vector"] is None
    assert not AudioFeatures.objects.filter(track_id=body["id"]).exists()


def test_a_flac_of_unknown_length_is_measured_by_decoding(staff_client, settings):
    # total_samples 0 (an encoder writing to a pipe): accepted, and analysis decodes to the end
    music = audio.encode(
        audio.progression("major", bpm=120, level=0.5, percussive=True, seconds=12), "FLAC"
    )
    response = upload(staff_client, "stream.flac", audio.without_length(music))
    assert response.status_code == 201, response.json()
    assert response.json()["analysis"]["status"] == "done"
    # the same for an hour of silence: decoding stops at the limit, not at the end of the hour
    settings.MAX_AUDIO_SECONDS = 600
    response = upload(staff_client, "hour.flac", audio.without_length(audio.silent_flac(3600)))
    assert response.status_code == 201, response.json()
    assert response.json()["analysis"]["error_code"] == "too_long"
    # with its length in the header, the hour is refused before anything is stored
    response = upload(staff_client, "hour-known.flac", audio.silent_flac(3600))
    assert (response.status_code, response.json()["error_code"]) == (400, "too_long")


def test_the_same_bytes_again_are_a_409_with_the_track_id(staff_client):
    data = audio.encode(audio.click_track(100, seconds=6), "FLAC")
    stored_before = stored_audio_files()
    first = upload(staff_client, "a.flac", data)
    again = upload(staff_client, "renamed.wav", data)
    assert again.status_code == 409
    assert again.json()["track_id"] == first.json()["id"]
    assert again.json()["error_code"] == "duplicate"
    assert Track.objects.count() == 1
    assert len(stored_audio_files() - stored_before) == 1


def test_one_byte_over_the_size_limit_is_413_and_nothing_is_written(staff_client, settings):
    settings.MAX_UPLOAD_MB = 1
    limit = 1024 * 1024
    header = audio.encode(audio.tone(seconds=6, level=0.2), "WAV")
    too_big = header + b"\0" * (limit + 1 - len(header))
    assert len(too_big) == limit + 1
    stored_before, staged_before = stored_audio_files(), staged_files()
    response = upload(staff_client, "big.wav", too_big)
    assert response.status_code == 413
    assert response.json()["error_code"] == "too_large"
    assert Track.objects.count() == 0
    assert stored_audio_files() == stored_before
    assert staged_files() == staged_before


def test_exactly_at_the_size_limit_is_accepted(staff_client, settings):
    settings.MAX_UPLOAD_MB = 1
    header = audio.encode(audio.tone(seconds=3.5, level=0.2), "WAV")
    padded = header + b"\0" * (1024 * 1024 - len(header))  # a WAV tolerates trailing bytes
    assert upload(staff_client, "edge.wav", padded).status_code == 201


def test_tags_name_the_track_and_explicit_fields_win(staff_client, tmp_path):
    import mutagen.flac

    path = audio.write(tmp_path / "tagged.flac", audio.click_track(110, seconds=6), "FLAC")
    tags = mutagen.flac.FLAC(path)
    tags["title"], tags["artist"], tags["album"], tags["date"] = (
        "Tagged",
        "Tag Artist",
        "LP",
        "2019",
    )
    tags.save()
    body = upload(staff_client, "whatever.flac", path.read_bytes()).json()
    assert body["title"] == "Tagged"
    assert body["artist"]["name"] == "Tag Artist"
    assert body["album"] == {"id": body["album"]["id"], "title": "LP", "year": 2019}

    other = audio.write(tmp_path / "o.flac", audio.click_track(111, seconds=6), "FLAC")
    body = upload(
        staff_client, "o.flac", other.read_bytes(), title="Given", artist="Someone"
    ).json()
    assert (body["title"], body["artist"]["name"]) == ("Given", "Someone")


def test_without_tags_the_file_name_and_unknown_artist_are_used(staff_client):
    data = audio.encode(audio.click_track(96, seconds=6), "WAV")
    body = upload(staff_client, "C:\\music\\My_Song.final.wav", data).json()
    assert body["title"] == "My Song.final"
    assert body["artist"]["name"] == "Unknown artist"


def test_uploads_need_staff(client, user_client):
    data = audio.encode(audio.click_track(100, seconds=6), "FLAC")
    assert upload(client, "a.flac", data).status_code in (401, 403)
    assert upload(user_client, "a.flac", data).status_code == 403
    assert Track.objects.count() == 0


def test_missing_audio_field_is_a_field_error(staff_client):
    response = staff_client.post("/api/tracks/", {"title": "no file"})
    assert response.status_code == 400
    assert "audio" in response.json()


def test_with_the_broker_down_the_upload_succeeds_and_stays_pending(staff_client):
    from musicrec.celery import app

    app.conf.task_always_eager = False  # restored by the autouse fixture
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        first = upload(
            staff_client, "a.flac", audio.encode(audio.click_track(90, seconds=6), "FLAC")
        )
        second = upload(
            staff_client, "b.flac", audio.encode(audio.click_track(95, seconds=6), "FLAC")
        )
    finally:
        app.conf.broker_url = previous
    assert first.status_code == second.status_code == 201
    assert first.json()["analysis"]["status"] == "pending"
    assert set(Track.objects.values_list("status", flat=True)) == {"pending"}
