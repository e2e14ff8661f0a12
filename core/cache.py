"""The Django cache on Redis, with a deadline and a fallback (docs/reliability.md, row 11).

Every cache call (throttle counters, cached answers) waits at most MUSICREC_CACHE_TIMEOUT_S
for Redis, is never retried, and after a failure Redis is skipped for the breaker's back-off
(core.breaker.CACHE): calls then fail at once, which the cache (IGNORE_EXCEPTIONS) turns into a
miss. A stopped, hung or unreachable Redis thus makes requests a little less cached, not slow.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.breaker import CACHE

FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)


class GuardedConnection(redis.Connection):
    """A redis-py connection that refuses at once while the breaker is open and trips it when
    Redis fails or does not answer in time."""

    def __init__(self, *args, **kwargs):
        kwargs["retry"] = Retry(NoBackoff(), 0)  # a second try would wait the timeout again
        kwargs["retry_on_timeout"] = False
        super().__init__(*args, **kwargs)

    def _guarded(self, call, *args, **kwargs):
        if CACHE.is_open:
            self.disconnect()
            raise redis.ConnectionError("Redis skipped: it failed moments ago")
        try:
            return call(*args, **kwargs)
        except FAILURES as exc:
            CACHE.trip(exc)
            self.disconnect()
            raise

    def connect(self):
        return self._guarded(super().connect)

    def send_packed_command(self, command, check_health=True):
        return self._guarded(super().send_packed_command, command, check_health)

    def read_response(self, *args, **kwargs):
        return self._guarded(super().read_response, *args, **kwargs)
