"""Response shapes of the recommender API (CONTRACT section 4), for the schema and the admin."""

from rest_framework import serializers

from catalog.serializers import TrackCompactSerializer
from recommender.models import ModelVersion


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
