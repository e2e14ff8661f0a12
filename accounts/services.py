"""Writes on accounts."""

from django.db import transaction

from accounts.models import User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "musicrec-demo"


@transaction.atomic
def demo_user_ensure() -> tuple[User, bool]:
    """Create the demo login, or reset its password if it exists. Idempotent.

    Returns the user and whether it was created.
    """
    user, created = User.objects.get_or_create(username=DEMO_USERNAME)
    user.set_password(DEMO_PASSWORD)
    user.is_active = True
    user.save()
    return user, created
