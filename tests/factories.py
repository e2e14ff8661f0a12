"""factory_boy factories for the suite's fixtures."""

from functools import lru_cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from catalog.models import Album, Artist, AudioFeatures, Track
from catalog.text import name_key

PASSWORD = "correct horse battery"


@lru_cache(maxsize=1)
def password_hash() -> str:
    """The test password hashed once: PBKDF2 takes a quarter of a second per user."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"listener{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.LazyFunction(password_hash)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class ArtistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artist

    name = factory.Sequence(lambda n: f"Artist {n}")
    name_key = factory.LazyAttribute(lambda a: name_key(a.name))


class AlbumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Album

    artist = factory.SubFactory(ArtistFactory)
    title = factory.Sequence(lambda n: f"Album {n}")
    title_key = factory.LazyAttribute(lambda a: name_key(a.title))


class TrackFactory(factory.django.DjangoModelFactory):
    """A track row without a stored file (metadata only unless a test gives it one)."""

    class Meta:
        model = Track

    title = factory.Sequence(lambda n: f"Track {n}")
    title_key = factory.LazyAttribute(lambda t: name_key(t.title))
    artist = factory.SubFactory(ArtistFactory)
    duration_s = 180.0
    status = Track.Status.DONE


class AudioFeaturesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AudioFeatures

    track = factory.SubFactory(TrackFactory)
    extractor_version = "test"
    mfcc_1 = -250.0
    mfcc_2 = 90.0
    mfcc_3 = -10.0
    mfcc_4 = 30.0
    mfcc_5 = -5.0
    tempo = 120.0
    beat_strength = 0.7
    energy = 0.6
    loudness = -12.0
    spectral_centroid = 2000.0
    spectral_rolloff = 0.4
    spectral_bandwidth = 0.3
    happy = False
    sad = False
    energetic = False
    calm = False
    key = 0
    mode = "major"
    arousal = 0.5
    valence = 0.0


def features_from_vector(track: Track, vector: list[float]) -> AudioFeatures:
    """Features whose 16-vector is exactly `vector` (seed order)."""
    fields = dict(zip(AudioFeatures.VECTOR_FIELDS, vector, strict=True))
    for mood in AudioFeatures.MOODS:
        fields[mood] = bool(fields[mood])
    return AudioFeaturesFactory(track=track, **fields)
