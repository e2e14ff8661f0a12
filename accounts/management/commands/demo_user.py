import json

from django.core.management.base import BaseCommand

from accounts.services import DEMO_PASSWORD, DEMO_USERNAME, demo_user_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo login and print it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        _user, created = demo_user_ensure()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "created": created}
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} "
                f"({'created' if created else 'already there, password reset'})"
            )
        )
        self.stdout.write("Open http://127.0.0.1:8000/ once the server below is up.")
