"""JSON shapes for listens and feedback (docs/api.md, "Listens and feedback")."""

from rest_framework import serializers

from catalog.serializers import TrackCompactSerializer
from core.api import MAX_BIGINT, MAX_INT
from listening.models import Feedback, ListeningEvent


class ListenInSerializer(serializers.Serializer):
    """Types only; the rules (known track, dates, flags) are the service's."""

    track_id = serializers.IntegerField(min_value=1, max_value=MAX_BIGINT)
    listened_at = serializers.DateTimeField(required=False, allow_null=True)
    ms_played = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT
    )
    completed = serializers.BooleanField(required=False, default=False)
    skipped = serializers.BooleanField(required=False, default=False)
    client_event_id = serializers.CharField(
        required=False, allow_null=True, max_length=64, allow_blank=False
    )


class ListenCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class ListenSerializer(serializers.ModelSerializer):
    track = TrackCompactSerializer(read_only=True)

    class Meta:
        model = ListeningEvent
        fields = ["id", "track", "listened_at", "ms_played", "completed", "skipped", "excluded"]
        read_only_fields = fields


class ListenExcludeSerializer(serializers.Serializer):
    schema_always_required = ("excluded",)  # a PATCH without it is a 400 (core.schema)

    excluded = serializers.BooleanField()


class FeedbackInSerializer(serializers.Serializer):
    schema_exactly_one_of = ("track_id", "artist_id")  # core.schema

    track_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    artist_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    kind = serializers.ChoiceField(choices=Feedback.Kind.values)

    def validate(self, attrs):
        if ("track_id" in attrs) == ("artist_id" in attrs):
            raise serializers.ValidationError(
                {"track_id": ["give either track_id or artist_id, not both"]}
            )
        return attrs


class FeedbackSerializer(serializers.ModelSerializer):
    schema_exactly_one_of = ("track_id", "artist_id")  # the other is left out (core.schema)

    class Meta:
        model = Feedback
        fields = ["id", "kind", "track_id", "artist_id", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data.pop("artist_id" if instance.track_id else "track_id")
        return data
