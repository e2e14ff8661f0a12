import json

from django.core.management.base import BaseCommand

from accounts.services import (
    CREATED,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    PASSWORD_RESET,
    PASSWORD_SET,
    demo_user_ensure,
)

EXPLAINED = {
    CREATED: "a new account, with no listening history yet",
    PASSWORD_SET: "the demo world's listener, password set",
    PASSWORD_RESET: "it was already there; password reset",
}


class Command(BaseCommand):
    help = "Create the demo login (or give the existing account the demo password) and print it."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        _user, done = demo_user_ensure()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "username": DEMO_USERNAME,
                        "password": DEMO_PASSWORD,
                        "created": done == CREATED,
                        "done": done,
                    }
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} "
                f"({EXPLAINED[done]})"
            )
        )
        self.stdout.write("Open http://127.0.0.1:8000/ once the server below is up.")
