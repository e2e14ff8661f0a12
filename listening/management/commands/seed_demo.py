import json
import tempfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import soundfile
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from catalog.models import Track
from catalog.services import DUPLICATE, IMPORTED, track_import, track_metadata_only
from core.progress import progress
from listening.demo.synth import SR, STYLE_BY_NAME, render
from listening.demo.world import plan_catalogue, plan_listening, plan_users, top_share
from listening.models import ListeningEvent
from listening.services import MAX_BATCH, ListenInput, feedback_set, listens_record


class Command(BaseCommand):
    help = (
        "Build the demo world: synthesised tracks in six styles (through the real import and "
        "analysis), listeners with tastes, 90 days of plays, skips, likes and dislikes. "
        "Deterministic for a given --seed; running it again adds nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, default=120)
        parser.add_argument("--users", type=int, default=60)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--seconds", type=float, default=20.0, help="length of each track")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if the catalogue has tracks"
        )
        parser.add_argument(
            "--no-audio",
            action="store_true",
            help="metadata-only tracks (no synthesis, no analysis): the same listening world in "
            "seconds, for recommender experiments",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        if options["if_empty"] and Track.objects.exists():
            self._report(options, {"skipped": "the catalogue is not empty"})
            return
        rng = np.random.default_rng(options["seed"])
        tracks = plan_catalogue(max(6, options["tracks"]), rng)
        users = plan_users(max(1, options["users"]), rng)
        listens, feedback = plan_listening(tracks, users, rng)
        if not options["json"]:
            work = (
                "metadata only"
                if options["no_audio"]
                else "each synthesised and analysed; the first waits for the analyser to warm up"
            )
            self.stdout.write(
                f"Building the demo world (seed {options['seed']}): {len(tracks)} tracks "
                f"({work}), {len(users)} listeners, {len(listens)} plays over 90 days."
            )

        track_ids = (
            self._metadata_tracks(tracks)
            if options["no_audio"]
            else self._import_tracks(tracks, options["seconds"])
        )
        user_objects = self._users(users)
        created, duplicates = self._listen(listens, track_ids, user_objects, options)
        for item in feedback:
            feedback_set(
                user=user_objects[item.user], kind=item.kind, track_id=track_ids[item.track]
            )
        statuses = dict.fromkeys(Track.Status.values, 0)
        for status in Track.objects.filter(pk__in=track_ids).values_list("status", flat=True):
            statuses[status] += 1
        self._report(
            options,
            {
                "seed": options["seed"],
                "tracks": len(track_ids),
                "analysis": {k: v for k, v in statuses.items() if v},
                "users": len(user_objects),
                "listens": created,
                "duplicate_listens": duplicates,
                "feedback": len(feedback),
                "top_10_percent_share": round(top_share(listens, len(tracks)), 3),
            },
        )

    def _import_tracks(self, tracks, seconds: float) -> list[int]:
        ids = []
        with tempfile.TemporaryDirectory(prefix="musicrec-demo-") as folder:
            for plan in progress(tracks, desc="synthesising and analysing", unit="track"):
                audio = render(
                    STYLE_BY_NAME[plan.style], np.random.default_rng(plan.audio_seed), seconds
                )
                path = Path(folder) / f"{plan.index:04d}.flac"
                soundfile.write(path, audio, SR, format="FLAC", subtype="PCM_16")
                result = track_import(
                    source=path,
                    original_name=path.name,
                    move=True,
                    title=plan.title,
                    artist_name=plan.artist,
                    album_title=plan.album,
                )
                if result.result not in (IMPORTED, DUPLICATE):
                    raise RuntimeError(f"demo track {plan.index} refused: {result.detail}")
                ids.append(result.track_id)
        return ids

    def _metadata_tracks(self, tracks) -> list[int]:
        existing = {
            (artist, title): pk
            for pk, artist, title in Track.objects.values_list("pk", "artist__name", "title")
        }
        return [
            existing.get((plan.artist, plan.title))
            or track_metadata_only(
                title=plan.title, artist_name=plan.artist, album_title=plan.album
            ).pk
            for plan in tracks
        ]

    def _users(self, users) -> list:
        User = get_user_model()
        objects = []
        for plan in users:
            user, created = User.objects.get_or_create(username=plan.username)
            if created:
                user.set_unusable_password()  # `demo_user` gives the demo login its password
                user.save(update_fields=["password"])
            objects.append(user)
        return objects

    def _listen(self, listens, track_ids, users, options) -> tuple[int, int]:
        now = timezone.now()
        duration = {
            pk: d or 20.0
            for pk, d in Track.objects.filter(pk__in=track_ids).values_list("pk", "duration_s")
        }
        by_user: dict[int, list[ListenInput]] = {}
        for number, item in enumerate(listens):
            track_id = track_ids[item.track]
            by_user.setdefault(item.user, []).append(
                ListenInput(
                    track_id=track_id,
                    listened_at=now - timedelta(seconds=item.seconds_ago),
                    ms_played=round(item.heard * duration[track_id] * 1000),
                    completed=item.completed,
                    skipped=item.skipped,
                    client_event_id=f"demo-{options['seed']}-{number}",
                )
            )
        created = duplicates = 0
        for user_index, items in progress(by_user.items(), desc="listening", unit="user"):
            for start in range(0, len(items), MAX_BATCH):
                result = listens_record(
                    user=users[user_index],
                    listens=items[start : start + MAX_BATCH],
                    source=ListeningEvent.Source.DEMO,
                )
                created += result.created
                duplicates += result.duplicates
        return created, duplicates

    def _report(self, options, summary: dict) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        elif "skipped" in summary:
            self.stdout.write(f"Demo world not built: {summary['skipped']}.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo world (seed {summary['seed']}): {summary['tracks']} tracks "
                    f"({summary['analysis']}), {summary['users']} listeners, "
                    f"{summary['listens']} listens, {summary['feedback']} likes/dislikes; "
                    f"{summary['top_10_percent_share']:.0%} of plays on the top 10% of tracks."
                )
            )
