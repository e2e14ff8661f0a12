"""Response shapes of the recommender API (docs/api.md, "Recommendations"): the functions render
the selectors' objects (plain functions: a serializer per item costs milliseconds on a list of
40); the serializer classes document the same shapes for the schema."""

from __future__ import annotations

from rest_framework import serializers

from catalog.serializers import TrackCompactSerializer, card_data
from recommender.models import ModelVersion
from recommender.results import (
    AlsoPlayed,
    ModelStamp,
    Recommendation,
    Recommendations,
    ScoredTrack,
    Shelves,
)


def _stamp(answer: ModelStamp) -> dict:
    return {"model_version": answer.model_version, "trained_at": answer.trained_at}


def _recommendation(r: Recommendation) -> dict:
    return {
        "track": card_data(r.track),
        "score": r.score,
        "source": r.source,
        "reason": {
            "type": r.reason.type,
            "track": card_data(r.reason.track) if r.reason.track else None,
            "text": r.reason.text,
        },
    }


def _scored(r: Recommendation | ScoredTrack) -> dict:
    return {"track": card_data(r.track), "score": r.score}


def recommendations_data(answer: Recommendations) -> dict:
    return {
        "user_id": answer.user_id,
        **_stamp(answer),
        "generated_at": answer.generated_at,
        "results": [_recommendation(r) for r in answer.results],
    }


def shelves_data(answer: Shelves) -> dict:
    return {
        **_stamp(answer),
        "shelves": [
            {
                "seed": card_data(shelf.seed),
                "title": shelf.title,
                "results": [_scored(r) for r in shelf.results],
            }
            for shelf in answer.shelves
        ],
    }


def also_played_data(answer: AlsoPlayed) -> dict:
    return {**_stamp(answer), "results": [_scored(r) for r in answer.results]}


class ReasonSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["listened", "sounds_like", "popular", "new"])
    track = TrackCompactSerializer(allow_null=True)
    text = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    track = TrackCompactSerializer()
    score = serializers.FloatField()
    source = serializers.ChoiceField(choices=["als", "content", "popular"])
    reason = ReasonSerializer()


class RecommendationsSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    model_version = serializers.IntegerField(allow_null=True)
    trained_at = serializers.DateTimeField(allow_null=True)
    generated_at = serializers.DateTimeField()
    results = RecommendationSerializer(many=True)


class ScoredTrackSerializer(serializers.Serializer):
    track = TrackCompactSerializer()
    score = serializers.FloatField()


class ShelfSerializer(serializers.Serializer):
    seed = TrackCompactSerializer()
    title = serializers.CharField()
    results = ScoredTrackSerializer(many=True)


class ShelvesSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(allow_null=True)
    trained_at = serializers.DateTimeField(allow_null=True)
    shelves = ShelfSerializer(many=True)


class AlsoPlayedSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(allow_null=True)
    trained_at = serializers.DateTimeField(allow_null=True)
    results = ScoredTrackSerializer(many=True)


class ActiveModelSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="pk")
    defaults = serializers.SerializerMethodField(
        help_text="the parameters the next retrain will use (retrain --tune stores them)"
    )

    class Meta:
        model = ModelVersion
        fields = ["version", "trained_at", "n_users", "n_tracks", "nnz", "params", "metrics",
                  "defaults"]  # fmt: skip

    def get_defaults(self, version) -> dict:
        from recommender.services import training_defaults

        d = training_defaults()
        return {
            "factors": d.factors,
            "iterations": d.iterations,
            "regularization": d.regularization,
            "alpha": d.alpha,
            "confidence": d.confidence,
            "tuned_at": d.tuned_at,
        }


class ModelVersionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="pk")

    class Meta:
        model = ModelVersion
        fields = ["version", "status", "reason", "created_at", "trained_at", "activated_at",
                  "n_users", "n_tracks", "nnz", "params", "seconds", "metrics"]  # fmt: skip


class RetrainQueuedSerializer(serializers.Serializer):
    status = serializers.CharField()


class RetrainRanSerializer(serializers.Serializer):
    """`retrain --json`'s body (recommender.services.training.TrainResult.as_json)."""

    version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ModelVersion.Status.choices)
    reason = serializers.CharField(allow_blank=True)
    n_users = serializers.IntegerField()
    n_tracks = serializers.IntegerField()
    nnz = serializers.IntegerField()
    params = serializers.DictField()
    seconds = serializers.DictField(help_text="seconds per stage")
    metrics = serializers.DictField()


class RadioReasonSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["seed", "sounds_like", "also_played", "taste", "mood"])
    text = serializers.CharField()
    track = TrackCompactSerializer(allow_null=True, help_text="the track the reason names")


class RadioPickSerializer(serializers.Serializer):
    track = TrackCompactSerializer()
    reason = RadioReasonSerializer()


class RadioSerializer(serializers.Serializer):
    station = serializers.CharField(help_text="pass it back as ?station= to continue")
    results = RadioPickSerializer(many=True)
