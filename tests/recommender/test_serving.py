"""Recommendations, shelves and also-played, on the planted world (docs/api.md)."""

from collections import Counter
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from listening.models import Feedback, UserTrackStats
from listening.services import ListenInput, listens_record
from recommender import serving
from recommender.personal import rank_personal, taste_of
from tests.factories import (
    ArtistFactory,
    StaffFactory,
    TrackFactory,
    UserFactory,
    features_from_vector,
)
from tests.helpers.als import implicit_best_contributor
from tests.helpers.world import CALM


def co_listeners(track_id: int, other_id: int, user_id: int) -> int:
    """Listeners other than `user_id` who played both tracks (read straight from the rows)."""
    rows = UserTrackStats.objects.exclude(user_id=user_id).filter(completed_plays__gt=0)
    return len(set(rows.filter(track_id=track_id).values_list("user_id", flat=True))
               & set(rows.filter(track_id=other_id).values_list("user_id", flat=True)))  # fmt: skip


@pytest.fixture
def trained(world):
    call_command("retrain", stdout=StringIO())
    serving.forget()
    return world


def recommend(client, user, query="n=10"):
    client.force_login(user)
    response = client.get(f"/api/recommendations/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_shape_and_a_users_own_group(client, trained):
    user = trained.calm_users[0]
    body = recommend(client, user)
    assert set(body) == {"user_id", "model_version", "trained_at", "generated_at", "results"}
    assert body["user_id"] == user.pk
    assert body["model_version"] is not None
    assert len(body["results"]) == 10
    first = body["results"][0]
    assert set(first) == {"track", "score", "source", "reason"}
    assert set(first["reason"]) == {"type", "track", "text"}
    groups = Counter(trained.group_of(r["track"]["id"]) for r in body["results"])
    assert groups["calm"] >= 8
    played = set(taste_of(user.pk).track_ids.tolist())
    assert not played & {r["track"]["id"] for r in body["results"]}


def test_reasons_name_a_listened_track(client, trained):
    user = trained.loud_users[1]
    played = set(taste_of(user.pk).track_ids.tolist())
    for result in recommend(client, user)["results"]:
        reason = result["reason"]
        if reason["type"] == "listened" and reason["track"] is None:
            assert reason["text"] == "Played by listeners with your taste"
        elif reason["type"] in ("listened", "sounds_like"):
            assert reason["track"]["id"] in played
            title = reason["track"]["title"]
            assert reason["text"] in (f"Because you listened to {title}", f"Sounds like {title}")


def test_at_most_two_per_artist_and_feedback_is_respected(client, trained):
    user = trained.calm_users[2]
    body = recommend(client, user, "n=20")
    artists = Counter(r["track"]["artist"]["id"] for r in body["results"])
    assert max(artists.values()) <= 2
    banned_track = body["results"][0]["track"]["id"]
    banned_artist = body["results"][1]["track"]["artist"]["id"]
    Feedback.objects.create(user=user, track_id=banned_track, kind="dont_recommend")
    Feedback.objects.create(user=user, artist_id=banned_artist, kind="dislike")
    again = recommend(client, user, "n=20")["results"]
    assert banned_track not in {r["track"]["id"] for r in again}
    assert banned_artist not in {r["track"]["artist"]["id"] for r in again}


def test_choose_reads_on_when_the_best_chunk_is_all_blocked(db):
    from recommender.engine.ranking import Pick
    from recommender.personal import choose

    blocked, other = ArtistFactory(), ArtistFactory()
    # the first 2n+10 picks (one chunk of cards) all belong to an artist the user disliked
    picks = [Pick(TrackFactory(artist=blocked).pk, 1.0, "als", "listened") for _ in range(16)]
    picks += [Pick(TrackFactory(artist=other).pk, 0.5, "als", "listened") for _ in range(3)]
    taste = taste_of(UserFactory().pk)
    taste.blocked_artists.add(blocked.pk)
    chosen = choose(picks, taste=taste, n=3, include_played=False)
    assert [p.track_id for p in chosen] == [p.track_id for p in picks[16:18]]
    assert all(p.card is not None and p.card.artist_id == other.pk for p in chosen)


def test_include_played_allows_play_again(client, trained):
    user = trained.calm_users[3]
    played = set(taste_of(user.pk).track_ids.tolist())
    body = recommend(client, user, "n=20&include_played=1")
    assert played & {r["track"]["id"] for r in body["results"]}


def test_a_user_the_model_never_saw_is_scored_from_their_listens(client, trained):
    newcomer = UserFactory(username="newcomer")
    listens_record(
        user=newcomer,
        listens=[ListenInput(track_id=t.pk, completed=True) for t in trained.loud_tracks[:4]],
        source="api",
    )
    results = recommend(client, newcomer)["results"]
    groups = Counter(trained.group_of(r["track"]["id"]) for r in results)
    assert groups["loud"] >= 8
    assert {r["source"] for r in results} <= {"als", "content"}


def test_a_user_with_no_listens_gets_popular_and_new(client, trained):
    results = recommend(client, UserFactory(username="nobody"))["results"]
    assert len(results) == 10
    assert {r["reason"]["type"] for r in results} <= {"popular", "new"}
    assert "new" in {r["reason"]["type"] for r in results}
    assert all(r["source"] == "popular" for r in results)


def test_before_any_model_everyone_still_gets_a_list(client, world):
    body = recommend(client, world.calm_users[0])
    assert body["model_version"] is None
    assert len(body["results"]) == 10


def test_a_track_added_after_training_enters_through_its_sound(client, trained):
    fresh = TrackFactory(title="fresh calm")
    features_from_vector(fresh, [v + 0.5 for v in CALM[:5]] + CALM[5:])
    user = trained.calm_users[4]
    results = recommend(client, user, "n=30")["results"]
    entry = next(r for r in results if r["track"]["id"] == fresh.pk)
    assert entry["source"] == "content"
    assert entry["reason"]["type"] == "sounds_like"


def test_shelves_are_attributed_to_the_largest_explain_contribution(client, trained):
    user = trained.calm_users[5]
    client.force_login(user)
    body = client.get("/api/recommendations/because-you-listened/?shelves=3&n=4").json()
    assert body["model_version"] is not None
    assert 1 <= len(body["shelves"]) <= 3
    served = serving.served_model()
    model = served.model
    taste = taste_of(user.pk)
    ranked = rank_personal(user_id=user.pk, taste=taste, served=served, n=36,
                           include_played=False)  # fmt: skip
    picks = {p.track_id: p for p in ranked}

    # each shelf holds the picks attributed to its seed
    for shelf in body["shelves"]:
        assert shelf["title"] == f"Because you listened to {shelf['seed']['title']}"
        for result in shelf["results"]:
            assert picks[result["track"]["id"]].seed_id == shelf["seed"]["id"]

    # an ALS pick is attributed to the listened track contributing most to its score among
    # those another listener also played with it (none: unattributed)
    values = taste.values(model.params["alpha"], model.params["confidence"])
    row = model.user_row(np.array([model.column_of(t) for t in taste.track_ids]), values)
    als = [p for p in ranked if p.source == "als"]
    assert len(als) >= 3
    attributed = 0
    for pick in als:
        best = implicit_best_contributor(model, row, model.column_of(pick.track_id))
        ranked_seeds = model.explain_ranked(row, [model.column_of(pick.track_id)])[0]
        assert ranked_seeds[0] == best  # the ranking starts where implicit's explain does
        shared = [int(model.track_ids[c]) for c in ranked_seeds
                  if co_listeners(int(model.track_ids[c]), pick.track_id, user.pk)]  # fmt: skip
        assert pick.seed_id == (shared[0] if shared else None)
        attributed += pick.seed_id is not None
    assert attributed >= 3


def test_shelves_hold_only_tracks_that_earn_the_claim(client, trained):
    from recommender.selectors import MIN_SHELF_SCORE

    user = trained.calm_users[6]
    client.force_login(user)
    body = client.get("/api/recommendations/because-you-listened/?shelves=10&n=50").json()
    scores = [r["score"] for shelf in body["shelves"] for r in shelf["results"]]
    assert scores
    assert min(scores) >= MIN_SHELF_SCORE
    groups = Counter(
        trained.group_of(r["track"]["id"]) for s in body["shelves"] for r in s["results"]
    )
    assert groups["loud"] == 0  # a calm listener's shelves never reach for the other group


def test_shelves_before_a_model_or_without_listens_are_empty(client, world):
    client.force_login(world.calm_users[0])
    assert client.get("/api/recommendations/because-you-listened/").json()["shelves"] == []


def test_also_played_removes_the_seed(client, trained):
    track = trained.loud_tracks[0]
    body = client.get(f"/api/tracks/{track.pk}/also-played/?n=5").json()
    assert body["model_version"] is not None
    ids = [r["track"]["id"] for r in body["results"]]
    assert track.pk not in ids
    assert len(ids) == 5
    assert sum(trained.group_of(t) == "loud" for t in ids) >= 4


def test_also_played_before_a_model(client, world):
    body = client.get(f"/api/tracks/{world.calm_tracks[0].pk}/also-played/").json()
    assert body == {"model_version": None, "trained_at": None, "results": []}


@pytest.mark.parametrize("query", ["n=0", "n=101", "n=x", "include_played=2"])
def test_bounds_are_400(client, trained, query):
    client.force_login(trained.calm_users[0])
    response = client.get(f"/api/recommendations/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_permissions(client, trained):
    assert client.get("/api/recommendations/").status_code in (401, 403)
    assert client.get("/api/models/active/").status_code == 200
    assert client.get("/api/models/").status_code in (401, 403)
    client.force_login(trained.calm_users[0])
    assert client.get("/api/models/").status_code == 403
    assert client.post("/api/retrain/", content_type="application/json").status_code == 403
    client.force_login(StaffFactory())
    listing = client.get("/api/models/").json()
    assert listing["count"] == 1
    assert listing["results"][0]["status"] == "active"


def test_active_model_is_404_before_the_first(client, db):
    assert client.get("/api/models/active/").status_code == 404


def test_retrain_through_the_api_inline(client, world, lock_held_elsewhere):
    from core import locks

    client.force_login(StaffFactory())
    response = client.post("/api/retrain/", content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    with lock_held_elsewhere(locks.RETRAIN, 0):
        assert client.post("/api/retrain/", content_type="application/json").status_code == 409
    assert client.get("/api/health/").json()["model_version"] == response.json()["version"]


def test_answers_are_reused_until_the_taste_or_the_model_changes(client, trained):
    from listening.services import listen_set_excluded

    user = trained.calm_users[7]
    first = recommend(client, user)
    assert recommend(client, user)["generated_at"] == first["generated_at"]  # from the cache

    listens_record(user=user, listens=[ListenInput(track_id=trained.calm_tracks[-1].pk,
                                                   completed=True)], source="api")  # fmt: skip
    after_listen = recommend(client, user)
    assert after_listen["generated_at"] != first["generated_at"]

    event = user.listening_events.order_by("listened_at").first()
    listen_set_excluded(user=user, event_id=event.pk, excluded=True)
    after_exclusion = recommend(client, user)
    assert after_exclusion["generated_at"] != after_listen["generated_at"]

    call_command("retrain", "--force", stdout=StringIO())
    serving.forget()
    after_retrain = recommend(client, user)
    assert after_retrain["model_version"] != first["model_version"]


def test_the_cache_can_be_turned_off(client, trained, settings):
    settings.MUSICREC_RECOMMENDATION_CACHE_SECONDS = 0
    user = trained.loud_users[7]
    assert recommend(client, user)["generated_at"] != recommend(client, user)["generated_at"]
