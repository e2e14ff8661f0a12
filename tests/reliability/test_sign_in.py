"""Row 13: password guessing is throttled per client address and per username, on the token
endpoint, the login form and sign-up, with 429 and Retry-After, before any password is hashed.
Also: /api/health/ is never throttled nor redirected; every answer carries CSP and
Permissions-Policy."""

import time

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

RATES = {
    "anon": "1000/minute",
    "user": "1000/minute",
    "sign_in": "6/minute",
    "sign_in_username": "4/minute",
    "sign_up": "3/minute",
    "sign_up_username": "3/minute",
}


@pytest.fixture
def rates(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", RATES)
    return RATES


@pytest.fixture
def hashes(monkeypatch):
    """Counts password hash verifications."""
    calls = []
    original = PBKDF2PasswordHasher.verify

    def verify(self, password, encoded):
        calls.append(1)
        return original(self, password, encoded)

    monkeypatch.setattr(PBKDF2PasswordHasher, "verify", verify)
    return calls


def token(client, username, password, address="10.0.0.1"):
    return client.post("/api/auth/token/", {"username": username, "password": password},
                       content_type="application/json", REMOTE_ADDR=address)  # fmt: skip


def test_the_token_endpoint_refuses_a_guesser_per_username(db, rates, hashes):
    user = UserFactory(username="victim")
    client = Client()
    answers = [token(client, "Victim", f"guess-{n}", f"10.0.1.{n}").status_code for n in range(4)]
    assert answers == [400] * 4  # four addresses, one username (case folded)
    hashed = len(hashes)
    refused = token(client, "victim", PASSWORD, "10.0.1.99")  # even the right password waits
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "detail" in refused.json()
    assert len(hashes) == hashed, "a throttled attempt must not hash a password"
    other = token(client, "someone-else", "x", "10.0.1.99")
    assert other.status_code == 400  # the address itself is not out of budget
    assert not Token.objects.filter(user=user).exists()


def test_the_token_endpoint_refuses_a_guesser_per_address(db, rates, hashes):
    client = Client()
    answers = [token(client, f"user{n}", "guess").status_code for n in range(6)]
    assert answers == [400] * 6
    refused = token(client, "user-new", "guess")
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert token(client, "user-new", "guess", address="10.9.9.9").status_code == 400


def test_the_login_form_shares_the_budget_and_says_how_long_to_wait(db, rates, hashes):
    UserFactory(username="listener")
    client = Client()
    for n in range(2):
        assert token(client, "listener", f"bad{n}").status_code == 400
    for n in range(2):
        page = client.post("/accounts/login/", {"username": "listener", "password": f"no{n}"},
                           REMOTE_ADDR="10.0.0.1")  # fmt: skip
        assert page.status_code == 200  # the form again, with its error
    hashed = len(hashes)
    page = client.post("/accounts/login/", {"username": "listener", "password": PASSWORD},
                       REMOTE_ADDR="10.0.0.1")  # fmt: skip
    assert page.status_code == 429
    assert int(page["Retry-After"]) > 0
    assert "Too many sign-in attempts" in page.content.decode()
    assert 'value="listener"' in page.content.decode()
    assert len(hashes) == hashed
    assert "_auth_user_id" not in client.session


def test_sign_up_is_throttled_per_address(db, rates):
    client = Client()
    for n in range(3):
        page = client.post("/accounts/signup/", {"username": f"new{n}", "password1": "short",
                           "password2": "short"}, REMOTE_ADDR="10.0.0.7")  # fmt: skip
        assert page.status_code == 200
    page = client.post("/accounts/signup/", {"username": "new9", "password1": "a-long-pass-9x!",
                       "password2": "a-long-pass-9x!"}, REMOTE_ADDR="10.0.0.7")  # fmt: skip
    assert page.status_code == 429
    assert page["Retry-After"]
    assert "Too many sign-up attempts" in page.content.decode()
    assert not User.objects.filter(username="new9").exists()


def test_health_is_never_throttled_nor_redirected(db, monkeypatch, settings):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**RATES, "anon": "2/minute"})
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert [client.get("/api/health/").status_code for _ in range(5)] == [200] * 5
    assert client.get("/api/tracks/", secure=True).status_code == 200
    assert client.get("/api/tracks/").status_code == 301  # everything else is redirected
    assert client.get("/api/tracks/", secure=True).status_code == 200
    assert client.get("/api/tracks/", secure=True).status_code == 429  # and throttled


@pytest.mark.parametrize("url", ["/", "/api/tracks/", "/accounts/login/", "/api/docs/",
                                 "/admin/login/", "/no-such-page/"])  # fmt: skip
def test_every_answer_carries_the_security_policies(db, url):
    response = Client().get(url)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]  # never for scripts
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]
    if not url.startswith(("/admin/", "/api/docs/")):
        assert "'unsafe-inline'" not in policy


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_a_guessing_client_gets_429_quickly_and_others_stay_fast(stack, measure):
    """gunicorn with real password hashing: six threads guess as fast as they can; they are
    refused within the budget and the catalogue stays fast for everyone else."""
    import threading

    UserFactory(username="target")
    server = stack.server(workers=2, MUSICREC_THROTTLE_SIGN_IN="10/minute")
    url = f"{server.url}/api/auth/token/"
    baseline = _median_track_list(server.url, 10)
    started = time.monotonic()
    first_429: list[float] = []
    statuses: list[int] = []
    halt = threading.Event()

    def guess(n: int) -> None:
        session = requests.Session()
        while not halt.is_set():
            answer = session.post(url, json={"username": "target", "password": f"g{n}"},
                                  timeout=30)  # fmt: skip
            statuses.append(answer.status_code)
            if answer.status_code == 429 and not first_429:
                first_429.append(time.monotonic() - started)
                assert int(answer.headers["Retry-After"]) > 0

    threads = [threading.Thread(target=guess, args=(n,), daemon=True) for n in range(6)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while not first_429 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first_429, "no 429 within a minute of guessing"
        during = _median_track_list(server.url, 20)
    finally:
        halt.set()
        for thread in threads:
            thread.join(timeout=30)
    assert statuses.count(400) <= 10, statuses.count(400)  # the username's budget, no more
    assert statuses.count(429) > 0
    assert 500 not in statuses
    assert during < max(0.25, 5 * baseline), (baseline, during)
    measure(seconds_to_first_429=first_429[0], wrong_passwords_answered=statuses.count(400),
            refused_429=statuses.count(429), track_list_median_ms_before=baseline * 1000,
            track_list_median_ms_while_guessing=during * 1000)  # fmt: skip


def _median_track_list(url: str, n: int) -> float:
    import statistics

    session = requests.Session()
    times = []
    for _ in range(n):
        started = time.monotonic()
        assert session.get(f"{url}/api/tracks/", timeout=30).status_code in (200, 429)
        times.append(time.monotonic() - started)
    return statistics.median(times)
