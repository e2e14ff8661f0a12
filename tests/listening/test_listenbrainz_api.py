"""POST /1/submit-listens and GET /1/validate-token, driven by the official ListenBrainz client
(liblistenbrainz, a client nobody here wrote) against a live server, read back through our API."""

from __future__ import annotations

import json
import time

import liblistenbrainz
import pytest
import requests
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException
from rest_framework.authtoken.models import Token

from catalog.models import Track
from listening.models import ListeningEvent
from tests.factories import ArtistFactory, TrackFactory, UserFactory
from tests.helpers.listening import assert_aggregate_consistent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener():
    user = UserFactory(username="scrobbler")
    return user, Token.objects.create(user=user).key


@pytest.fixture
def client_for(live_server):
    def make(token: str | None = None) -> liblistenbrainz.ListenBrainz:
        client = liblistenbrainz.ListenBrainz(api_base_url=live_server.url)
        if token is not None:
            client.set_auth_token(token)  # asks /1/validate-token
        return client

    return make


def our_history(live_server, token: str) -> list[tuple]:
    response = requests.get(f"{live_server.url}/api/listens/?page_size=100",
                            headers={"Authorization": f"Token {token}"}, timeout=30)  # fmt: skip
    assert response.status_code == 200
    return sorted(
        (item["track"]["artist"]["name"], item["track"]["title"], item["listened_at"])
        for item in response.json()["results"]
    )


def test_single_import_and_playing_now_from_the_official_client(live_server, listener,
                                                                client_for):  # fmt: skip
    user, token = listener
    creep = TrackFactory(title="Creep", artist=ArtistFactory(name="Radiohead"))
    client = client_for(token)
    now = int(time.time())

    def listen(title, artist, at=None):
        return liblistenbrainz.Listen(track_name=title, artist_name=artist, listened_at=at,
                                      release_name="An Album", listening_from="a test")  # fmt: skip

    assert client.submit_single_listen(listen("creep", "RADIOHEAD", now - 600)) == {"status": "ok"}
    batch = [listen("Jóga", "Björk", now - 500), listen("Hunter", "Björk", now - 400),
             listen("Jóga", "Björk", now - 500)]  # fmt: skip
    assert client.submit_multiple_listens(batch) == {"status": "ok"}
    assert client.submit_playing_now(listen("Airbag", "Radiohead")) == {"status": "ok"}
    # a scrobbler retrying: the same listens again are not counted twice
    assert client.submit_single_listen(listen("Creep", "Radiohead", now - 600))["status"] == "ok"
    assert client.submit_multiple_listens(batch[:2])["status"] == "ok"

    history = our_history(live_server, token)
    assert [(artist, title) for artist, title, _ in history] == [
        ("Björk", "Hunter"), ("Björk", "Jóga"), ("Radiohead", "Creep"),
    ]  # fmt: skip
    assert ListeningEvent.objects.filter(user=user, track=creep, source="scrobble").count() == 1
    created = Track.objects.get(title="Hunter")
    assert (created.artist.name, created.status) == ("Björk", "no_audio")
    assert not Track.objects.filter(title="Airbag").exists()  # playing_now is not a listen
    assert_aggregate_consistent()


def test_tokens_are_validated_as_listenbrainz_answers(live_server, listener, client_for):
    _, token = listener
    with pytest.raises(InvalidAuthTokenException):
        client_for("not-a-token")
    url = f"{live_server.url}/1/validate-token"
    good = requests.get(url, headers={"Authorization": f"Token {token}"}, timeout=30).json()
    assert good == {"code": 200, "message": "Token valid.", "valid": True,
                    "user_name": "scrobbler"}  # fmt: skip
    assert requests.get(url, params={"token": token}, timeout=30).json()["valid"] is True
    missing = requests.get(url, timeout=30)
    assert missing.status_code == 400
    assert missing.json() == {"code": 400, "error": "You need to provide an Authorization token."}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("not json", 400, "Cannot parse JSON document"),
        ({"payload": []}, 400, "Invalid JSON document submitted."),
        ({"listen_type": "single", "payload": []}, 400, "does not contain any listens"),
        ({"listen_type": "other", "payload": [{}]}, 400, "valid listen_type"),
        ({"listen_type": "single", "payload": [{"track_metadata": {}}]}, 400,
         "must contain the key listened_at"),
        ({"listen_type": "single", "payload": [{"listened_at": "soon", "track_metadata": {}}]},
         400, "int value for listened_at"),
        ({"listen_type": "single", "payload": [{"listened_at": 4102444800,
          "track_metadata": {"artist_name": "A", "track_name": "B"}}]}, 400, "too high"),
        ({"listen_type": "single", "payload": [{"listened_at": 1700000000,
          "track_metadata": {"artist_name": "A"}}]}, 400, "track_metadata.track_name"),
        ({"listen_type": "single", "payload": [{"listened_at": 1700000000,
          "track_metadata": {"artist_name": "A\u0000", "track_name": "B"}}]}, 400,
         "unicode null"),
        ({"listen_type": "playing_now", "payload": [{"listened_at": 1700000000,
          "track_metadata": {"artist_name": "A", "track_name": "B"}}]}, 400,
         "must not contain listened_at"),
    ],
)  # fmt: skip
def test_bad_submissions_get_listenbrainz_errors_and_store_nothing(live_server, listener, body,
                                                                   status, error):  # fmt: skip
    _, token = listener
    data = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(f"{live_server.url}/1/submit-listens", data=data,
                             headers={"Authorization": f"Token {token}"}, timeout=30)  # fmt: skip
    assert response.status_code == status
    assert response.json()["code"] == status
    assert error in response.json()["error"]
    assert ListeningEvent.objects.count() == 0


def test_submitting_without_a_good_token_is_401(live_server, client_for):
    url = f"{live_server.url}/1/submit-listens"
    body = '{"listen_type": "single", "payload": [{"listened_at": 1700000000, "track_metadata":' \
           ' {"artist_name": "A", "track_name": "B"}}]}'  # fmt: skip
    refusals = [({}, "You need to provide an Authorization header."),
                ({"Authorization": "Token nope"}, "Invalid authorization token.")]  # fmt: skip
    for headers, error in refusals:
        response = requests.post(url, data=body, headers=headers, timeout=30)
        assert (response.status_code, response.json()) == (401, {"code": 401, "error": error})
    client = client_for()
    client.set_auth_token("nope", check_validity=False)
    with pytest.raises(ListenBrainzAPIException) as failure:
        client.submit_single_listen(liblistenbrainz.Listen("B", "A", listened_at=1700000000))
    assert failure.value.status_code == 401
