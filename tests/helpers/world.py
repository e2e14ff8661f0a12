"""A planted world in the database: two groups of listeners, two groups of tracks that also sound
different (calm vs energetic features), listens recorded through the real service."""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.utils import timezone

from listening.services import ListenInput, listens_record
from tests.factories import ArtistFactory, TrackFactory, UserFactory, features_from_vector

CALM = [-400, 60, 10, 20, 0, 70, 0.3, 0.2, -30, 900, 0.1, 0.08, 0, 1, 0, 1]
LOUD = [-150, 90, -20, 5, 5, 150, 0.9, 0.9, -8, 3500, 0.6, 0.4, 1, 0, 1, 0]


@dataclass
class World:
    calm_users: list
    loud_users: list
    calm_tracks: list
    loud_tracks: list

    def group_of(self, track_id: int) -> str:
        return "calm" if track_id in {t.pk for t in self.calm_tracks} else "loud"


def _vector(base, rng):
    jitter = [rng.normal(0, 3) for _ in range(5)] + [rng.normal(0, 2)] + [0.0] * 10
    return [b + j for b, j in zip(base, jitter, strict=True)]


def build_world() -> World:
    rng = np.random.default_rng(0)
    calm_tracks, loud_tracks = [], []
    for group, base, out in (("calm", CALM, calm_tracks), ("loud", LOUD, loud_tracks)):
        for a in range(6):
            artist = ArtistFactory(name=f"{group} artist {a}")
            for t in range(3):
                track = TrackFactory(title=f"{group} {a}-{t}", artist=artist)
                features_from_vector(track, _vector(base, rng))
                out.append(track)
    calm_users = [UserFactory(username=f"calm{i}") for i in range(12)]
    loud_users = [UserFactory(username=f"loud{i}") for i in range(12)]
    now = timezone.now()
    for users, tracks in ((calm_users, calm_tracks), (loud_users, loud_tracks)):
        for user in users:
            chosen = rng.choice(len(tracks), size=8, replace=False)
            listens = [
                ListenInput(
                    track_id=tracks[i].pk,
                    completed=True,
                    listened_at=now - timedelta(hours=int(rng.integers(1, 2000))),
                )
                for i in chosen
                for _ in range(int(rng.integers(1, 4)))
            ]
            listens_record(user=user, listens=listens, source="api")
    return World(calm_users, loud_users, calm_tracks, loud_tracks)
