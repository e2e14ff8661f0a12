"""Throttles for signing in and signing up, shared by the API's token endpoint and the forms.

Every attempt is counted, before its password is hashed, per client address and per username
(folded to lower case), in the cache: `MUSICREC_THROTTLE_SIGN_IN` and
`MUSICREC_THROTTLE_SIGN_IN_USERNAME` for the token endpoint and the login form together (one
budget, whichever way is used), `MUSICREC_THROTTLE_SIGN_UP` per address and per chosen username
for the sign-up form. Past the budget the answer is 429 with `Retry-After`, and no hash is
computed, so one client guessing passwords cannot take the CPU from everyone else.
"""

from __future__ import annotations

import hashlib
import math

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class _Throttle(SimpleRateThrottle):
    """A rate throttle for a scope and an identity; usable from DRF views and plain views."""

    def __init__(self, scope: str, ident: str):
        self.scope = scope
        self.ident = ident
        super().__init__()

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


def _username_ident(username: str) -> str:
    folded = (username or "").strip().casefold()
    return hashlib.sha256(folded.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def attempt_wait(request: HttpRequest, *, action: str, username: str) -> int | None:
    """Count one attempt of `action` ("sign_in" or "sign_up"); None when it may go ahead, else
    the seconds to wait (for Retry-After). Every throttle of the action counts the attempt."""
    by_address = _Throttle(action, "")
    # get_ident: REMOTE_ADDR, or X-Forwarded-For as far as NUM_PROXIES trusts it
    by_address.ident = f"address:{by_address.get_ident(request)}"
    throttles = [by_address, _Throttle(f"{action}_username", f"user:{_username_ident(username)}")]
    waits = [t.wait() for t in throttles if not t.allow_request(request, None)]
    if not waits:
        return None
    return max(1, math.ceil(max(w or 1 for w in waits)))
