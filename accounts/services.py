"""Writes on accounts."""

from django.db import transaction

from accounts.models import User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "musicrec-demo"

# What demo_user_ensure did
CREATED = "created"
PASSWORD_SET = "password set"  # the account existed without a password (seed_demo's listener)
PASSWORD_RESET = "password reset"  # the account had a password, now the demo one again


@transaction.atomic
def demo_user_ensure() -> tuple[User, str]:
    """Create the demo login, or give the existing account the demo password. Idempotent.

    `seed_demo` makes a listener of that name with no usable password (its history is what the
    demo login shows), so on a fresh demo database this sets the password of that listener.
    Returns the user and what was done: CREATED, PASSWORD_SET or PASSWORD_RESET.
    """
    user, created = User.objects.select_for_update().get_or_create(username=DEMO_USERNAME)
    if created:
        done = CREATED
    elif user.has_usable_password():
        done = PASSWORD_RESET
    else:
        done = PASSWORD_SET
    user.set_password(DEMO_PASSWORD)
    user.is_active = True
    user.save()
    return user, done
