"""The pure ranking of recommender/engine/: no database, no Django."""

import numpy as np

from recommender.engine.ranking import (
    MAX_PER_ARTIST,
    Pick,
    Selection,
    best_recommendable,
    blend,
    cold_picks,
    shelf_groups,
    top_indices,
)
from recommender.engine.taste import feedback_merge, taste_build


def test_top_indices_is_a_stable_partial_sort():
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.3])
    assert top_indices(scores, 3).tolist() == [1, 3, 2]
    assert top_indices(scores, 10).tolist() == [1, 3, 2, 4, 0]


def test_played_tracks_do_not_set_the_scale():
    scores = np.array([5.0, 2.0, 1.0])
    assert best_recommendable(scores, np.array([True, False, False])) == 2.0
    assert best_recommendable(scores, np.array([True, True, True])) == 1e-9


def test_blend_lifts_few_listener_tracks_by_sound_and_names_the_sound_seed():
    picks = blend(
        track_ids=np.array([10, 11, 12]),
        als_scores=np.array([1.0, 0.1, 0.3]),
        top_score=1.0,
        listeners=np.array([95, 0, 5]),
        similarity=np.array([0.5, 0.9, 0.7]),
        sound_seeds=[None, 7, 8],
    )
    assert (picks[0].source, picks[0].reason_type) == ("als", "listened")
    assert picks[0].score == 1.0  # sound below ALS never pulls a track down
    assert (picks[1].source, picks[1].seed_id) == ("content", 7)
    assert abs(picks[1].score - 0.8) < 1e-9  # no listeners: sound alone, 0.1 + (0.8 - 0.1)
    assert abs(picks[2].score - (0.3 + 0.5 * (0.4 - 0.3))) < 1e-9  # w = 0.5: half the lift


def test_blend_leaves_a_no_sound_tracks_als_score_alone():
    """A track without a sound vector (NaN) is ranked by ALS alone, whatever its listeners:
    the niche track with 1 listener keeps its lead over the mainstream one."""
    picks = blend(
        track_ids=np.array([20, 21]),
        als_scores=np.array([0.9, 0.6]),
        top_score=1.0,
        listeners=np.array([1, 400]),
        similarity=np.array([np.nan, np.nan]),
        sound_seeds=[None, None],
    )
    assert [p.score for p in picks] == [0.9, 0.6]
    assert all((p.source, p.reason_type) == ("als", "listened") for p in picks)


def test_selection_caps_artists_but_not_unknown_ones_and_skips_hidden():
    selection = Selection(n=6, hidden={3}, blocked_artists={99})
    offers = [(1, 5, True), (2, 5, True), (3, 6, True), (4, 5, True), (5, 99, True),
              (6, 7, False), (7, 7, False), (8, 7, False), (9, 9, True), (10, 9, True)]  # fmt: skip
    taken = [tid for tid, artist, capped in offers
             if selection.offer(Pick(tid, 1.0, "als", "listened"), object(), artist_id=artist,
                                capped=capped)]  # fmt: skip
    assert taken == [1, 2, 6, 7, 8, 9]  # three by the unknown artist 7, two by artist 5
    assert selection.full
    assert max(selection.per_artist.values()) == MAX_PER_ARTIST


def test_feedback_merge_marks_pairs_and_adds_unplayed_ones():
    merged = feedback_merge(
        user_ids=np.array([1, 1, 2]),
        track_ids=np.array([10, 11, 10]),
        completed=np.array([3, 1, 2]),
        partial=np.zeros(3),
        skips=np.zeros(3),
        last_listened=np.array([100, 200, 300]),
        feedback_users=np.array([1, 2]),
        feedback_tracks=np.array([11, 12]),
        feedback_liked=np.array([True, False]),
    )
    assert merged.track_ids.tolist() == [10, 11, 10, 12]
    assert merged.liked.tolist() == [False, True, False, False]
    assert merged.disliked.tolist() == [False, False, False, True]
    assert merged.last_listened[-1] == 300  # a feedback-only pair counts as recent


def test_taste_build_blocks_and_merges_feedback():
    taste = taste_build(
        user_id=1,
        track_ids=np.array([10, 11]),
        completed=np.array([2, 1]),
        partial=np.zeros(2),
        skips=np.zeros(2),
        feedback=[
            (11, None, "like"),
            (12, None, "dont_recommend"),
            (13, None, "like"),
            (None, 5, "dislike"),
            (None, 6, "like"),
        ],
    )
    assert taste.track_ids.tolist() == [10, 11, 13]
    assert taste.entries.liked.tolist() == [False, True, True]
    assert taste.blocked_tracks == {12}
    assert taste.blocked_artists == {5}
    assert taste.seeds() == [11, 13, 10]


def test_cold_list_puts_a_new_track_every_fourth():
    picks = cold_picks(popular=[1, 2, 3, 4, 5], new=[9], every=4)
    assert [p.track_id for p in picks] == [1, 2, 3, 9, 4, 5]
    assert picks[3].reason_type == "new"


def test_shelves_group_by_seed_and_only_picks_that_earn_the_claim():
    picks = [Pick(1, 0.9, "als", "listened", 100), Pick(2, 0.1, "als", "listened", 200),
             Pick(3, 0.5, "als", "listened", 200), Pick(4, 0.8, "als", "listened", 100),
             Pick(5, 0.7, "content", "sounds_like", None)]  # fmt: skip
    groups = shelf_groups(picks, shelves=5, n=1, min_score=0.15)
    assert [(seed, [p.track_id for p in group]) for seed, group in groups] == [
        (100, [1]),
        (200, [3]),
    ]
