"""A gunicorn configuration for tests that must see how many passwords the server hashes
(`GUNICORN_CMD_ARGS="--config python:tests.helpers.hash_counter"`, with `MUSICREC_TEST_HASH_LOG`
naming a file): every PBKDF2 computation in any worker (a password checked, or the dummy hash
Django computes for an unknown username) appends one line to that file."""

import os


def post_worker_init(worker) -> None:
    """Runs in each worker once the application (and with it Django) is loaded."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    log = os.environ["MUSICREC_TEST_HASH_LOG"]
    original = PBKDF2PasswordHasher.encode

    def encode(self, password, salt, iterations=None):
        with open(log, "a") as counted:  # O_APPEND: lines from both workers stay whole
            counted.write(f"{os.getpid()}\n")
        return original(self, password, salt, iterations)

    PBKDF2PasswordHasher.encode = encode


def hashes_counted(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0
