"""manage.py demo_user says what it did: created, set the demo listener's password, or reset it."""

import json
from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User


def demo_user(*args) -> str:
    out = StringIO()
    call_command("demo_user", *args, stdout=out)
    return out.getvalue()


def test_on_an_empty_database_the_login_is_created(db):
    assert "(a new account, with no listening history yet)" in demo_user()
    assert authenticate(username="demo", password="musicrec-demo") is not None


def test_the_demo_worlds_listener_gets_its_password_set_not_reset(db):
    listener = User.objects.create(username="demo")
    listener.set_unusable_password()  # as seed_demo leaves it
    listener.save()
    body = json.loads(demo_user("--json"))
    assert (body["created"], body["done"]) == (False, "password set")
    assert authenticate(username="demo", password="musicrec-demo").pk == listener.pk


def test_a_changed_password_is_reset(db):
    User.objects.create_user(username="demo", password="something else")
    assert "(it was already there; password reset)" in demo_user()
    assert authenticate(username="demo", password="musicrec-demo") is not None
    assert json.loads(demo_user("--json"))["done"] == "password reset"
