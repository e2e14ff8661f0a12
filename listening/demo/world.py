"""The demo world as a plan: catalogue, listeners with tastes, 90 days of listening. numpy only.

Deterministic for a given seed. Listeners have a latent taste over the six styles (mostly one or
two) and a bias towards popular tracks, so that popularity is an honest baseline (at least 30% of
plays go to the top 10% of tracks) and taste is what a good model should find on top of it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from listening.demo.synth import STYLES

DAYS = 90
FIRST_NAMES = (
    "Ada", "Ben", "Carla", "Dev", "Elena", "Felix", "Gita", "Hugo", "Iris", "Jonas", "Kemi",
    "Luca", "Mara", "Nico", "Olga", "Pia", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Viktor",
    "Wen", "Xavi", "Yara", "Zeno",
)  # fmt: skip
LAST_NAMES = (
    "Vey", "Lind", "Okafor", "Marsh", "Castell", "Brandt", "Noor", "Ferro", "Hale", "Ivers",
    "Kato", "Moreau", "Quist", "Rask", "Sol", "Thorne", "Varga", "Wilde",
)  # fmt: skip

# Listening model (see plan_listening)
POPULARITY_EXPONENT = 0.8  # Zipf-like track popularity
TASTE_CONCENTRATION = 0.3  # Dirichlet alpha: small = one or two favourite styles
TASTE_POWER = 3.0  # how strongly taste steers choice
FAVOURITES = 4  # per listener, tracks played far more often than the rest
FAVOURITE_BOOST = 6.0


@dataclass(frozen=True)
class TrackPlan:
    index: int
    style: str
    artist: str
    album: str
    title: str
    audio_seed: int


@dataclass(frozen=True)
class UserPlan:
    index: int
    username: str
    taste: tuple[float, ...]  # one weight per style, summing to 1


@dataclass(frozen=True)
class ListenPlan:
    user: int
    track: int
    seconds_ago: float
    completed: bool
    skipped: bool
    heard: float  # share of the track heard


@dataclass(frozen=True)
class FeedbackPlan:
    user: int
    track: int
    kind: str  # like | dislike


def plan_catalogue(n_tracks: int, rng: np.random.Generator) -> list[TrackPlan]:
    """Tracks spread evenly over the styles, 3 to 5 per artist, one or two albums per artist."""
    plans: list[TrackPlan] = []
    used_artists: set[str] = set()
    for style_index, style in enumerate(STYLES):
        count = n_tracks // len(STYLES) + (1 if style_index < n_tracks % len(STYLES) else 0)
        made = 0
        while made < count:
            artist = _artist_name(style, rng, used_artists)
            per_artist = min(int(rng.integers(3, 6)), count - made)
            albums = [_title(style, rng) for _ in range(1 + int(rng.random() < 0.5))]
            titles: set[str] = set()
            for _ in range(per_artist):
                title = _title(style, rng)
                while title in titles:
                    title = _title(style, rng)
                titles.add(title)
                plans.append(
                    TrackPlan(
                        index=len(plans),
                        style=style.name,
                        artist=artist,
                        album=albums[int(rng.integers(0, len(albums)))],
                        title=title,
                        audio_seed=int(rng.integers(0, 2**31)),
                    )
                )
            made += per_artist
    return plans


def plan_users(n_users: int, rng: np.random.Generator, *, first: str = "demo") -> list[UserPlan]:
    names = [first] + [
        f"{FIRST_NAMES[i % len(FIRST_NAMES)].lower()}{i // len(FIRST_NAMES) + 1:02d}"
        for i in range(n_users - 1)
    ]
    return [
        UserPlan(
            index=i,
            username=name,
            taste=tuple(float(v) for v in rng.dirichlet([TASTE_CONCENTRATION] * len(STYLES))),
        )
        for i, name in enumerate(names[:n_users])
    ]


def plan_listening(
    tracks: list[TrackPlan], users: list[UserPlan], rng: np.random.Generator
) -> tuple[list[ListenPlan], list[FeedbackPlan]]:
    """Each listener's plays over the last 90 days.

    A play picks track t with weight popularity(t) * taste(style of t)^3, and 6x for the
    listener's few favourites (drawn from their favourite style). It is completed with a chance
    that grows with how much the listener likes the style, else skipped (mostly) or heard in part.
    Likes go to tracks completed 3+ times (30%), dislikes to tracks skipped twice or more in a
    style the listener does not like (40%).
    """
    style_of = np.array([[s.name for s in STYLES].index(t.style) for t in tracks])
    popularity = 1.0 / (rng.permutation(len(tracks)) + 1.0) ** POPULARITY_EXPONENT
    listens: list[ListenPlan] = []
    feedback: list[FeedbackPlan] = []
    for user in users:
        taste = np.array(user.taste)
        affinity = taste / taste.max()
        weights = popularity * taste[style_of] ** TASTE_POWER
        favourite_style = int(np.argmax(taste))
        own = np.flatnonzero(style_of == favourite_style)
        favourites = rng.choice(own, size=min(FAVOURITES, len(own)), replace=False)
        weights[favourites] *= FAVOURITE_BOOST
        weights = weights / weights.sum()
        count = int(np.clip(rng.lognormal(np.log(110), 0.5), 25, 8 * len(tracks)))
        chosen = rng.choice(len(tracks), size=count, p=weights)
        seconds_ago = np.sort(rng.uniform(0, DAYS * 86400, size=count))[::-1]
        completions: Counter[int] = Counter()
        skips: Counter[int] = Counter()
        for track, ago in zip(chosen, seconds_ago, strict=True):
            like = affinity[style_of[track]]
            roll = rng.random()
            if roll < 0.15 + 0.8 * like:
                listens.append(ListenPlan(user.index, int(track), float(ago), True, False, 1.0))
                completions[int(track)] += 1
            elif rng.random() < 0.75:
                heard = float(rng.uniform(0.02, 0.2))
                listens.append(ListenPlan(user.index, int(track), float(ago), False, True, heard))
                skips[int(track)] += 1
            else:
                heard = float(rng.uniform(0.3, 0.85))
                listens.append(ListenPlan(user.index, int(track), float(ago), False, False, heard))
        for track, times in sorted(completions.items()):
            if times >= 3 and rng.random() < 0.3:
                feedback.append(FeedbackPlan(user.index, track, "like"))
        for track, times in sorted(skips.items()):
            if times >= 2 and affinity[style_of[track]] < 0.3 and rng.random() < 0.4:
                feedback.append(FeedbackPlan(user.index, track, "dislike"))
    return listens, feedback


def top_share(listens: list[ListenPlan], n_tracks: int, top: float = 0.1) -> float:
    """Share of plays that go to the `top` share of tracks by plays."""
    counts = np.bincount([listen.track for listen in listens], minlength=n_tracks)
    k = max(1, round(top * n_tracks))
    return float(np.sort(counts)[::-1][:k].sum() / max(1, counts.sum()))


def _artist_name(style, rng: np.random.Generator, used: set[str]) -> str:
    while True:
        if rng.random() < 0.5:
            first = FIRST_NAMES[int(rng.integers(0, len(FIRST_NAMES)))]
            last = LAST_NAMES[int(rng.integers(0, len(LAST_NAMES)))]
            name = f"{first} {last}"
        else:
            adjective = style.adjectives[int(rng.integers(0, len(style.adjectives)))]
            noun = style.nouns[int(rng.integers(0, len(style.nouns)))]
            name = f"The {adjective} {noun}s"
        if name not in used:
            used.add(name)
            return name


def _title(style, rng: np.random.Generator) -> str:
    adjective = style.adjectives[int(rng.integers(0, len(style.adjectives)))]
    noun = style.nouns[int(rng.integers(0, len(style.nouns)))]
    return f"{adjective} {noun}"
