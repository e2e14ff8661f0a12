"""Django's PostgreSQL backend with deadlines (core.postgresql.deadline) on every call made
while serving a request: queries, the connection health check, commit, rollback, autocommit,
and the session set-up. Outside requests (workers, commands) it is Django's backend as is.

settings.py selects it for every postgres:// DATABASE_URL (ENGINE `core.postgresql`); the
vendor stays `postgresql`.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.postgresql import base

from core.postgresql.deadline import deadline, in_request


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._watched_execute)

    # --- the deadline --------------------------------------------------------------------

    def _fd(self) -> int | None:
        try:
            return self.connection.pgconn.socket if self.connection is not None else None
        except Exception:  # closed or broken: nothing to watch
            return None

    def _deadline(self, seconds: float | None = None):
        """statement_timeout plus a second (the server's own error comes first when it can
        answer); MUSICREC_DB_STATEMENT_TIMEOUT_S=0 turns both off."""
        limit = settings.MUSICREC_DB_STATEMENT_TIMEOUT_S
        if limit <= 0:
            return deadline(None, 0)
        return deadline(self._fd(), limit + 1.0 if seconds is None else seconds)

    def _watched_execute(self, execute, sql, params, many, context):
        with self._deadline():
            return execute(sql, params, many, context)

    # --- raw psycopg calls Django makes outside its cursor wrapper ---------------------

    def init_connection_state(self):
        with self._deadline():
            super().init_connection_state()
            timeout_ms = int(settings.MUSICREC_DB_STATEMENT_TIMEOUT_S * 1000)
            if in_request() and timeout_ms > 0 and self.connection is not None:
                # web requests only: workers and commands may run long statements
                with self.connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {timeout_ms}")
                if not self.get_autocommit():
                    self.connection.commit()

    def is_usable(self):
        with self._deadline(1.0):  # SELECT 1 on a server that answers at all
            return super().is_usable()

    def _commit(self):
        with self._deadline():
            return super()._commit()

    def _rollback(self):
        with self._deadline():
            return super()._rollback()

    def _set_autocommit(self, autocommit):
        with self._deadline():
            return super()._set_autocommit(autocommit)
