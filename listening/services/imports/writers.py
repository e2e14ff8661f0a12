"""Who writes the prepared batches: the parsing thread itself, or a writer thread that overlaps
with it (PostgreSQL only: on SQLite a second connection would wait on the first's locks)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

from django.db import connection


class InlineWriter:
    def __init__(self, store: Callable[[object], None]):
        self.store = store

    def write(self, prepared) -> None:
        self.store(prepared)

    def finish(self) -> None:
        return None

    def abort(self) -> None:
        return None


class ThreadedWriter:
    """Writes batches on a thread of its own (its own database connection) while the caller
    parses the next; at most two batches wait, so memory stays flat. A write error stops the
    import and is raised in the caller."""

    QUEUED_BATCHES = 2

    def __init__(self, store: Callable[[object], None]):
        self.store = store
        self.queue: queue.Queue = queue.Queue(maxsize=self.QUEUED_BATCHES)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.thread.start()

    def write(self, prepared) -> None:
        self._raise()
        self.queue.put(prepared)

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        self._raise()

    def abort(self) -> None:
        if self.thread.is_alive():
            self.error = self.error or RuntimeError("import aborted")
            with contextlib.suppress(queue.Full):
                self.queue.put_nowait(None)
            self.thread.join(timeout=60)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while (prepared := self.queue.get()) is not None:
                if self.error is None:
                    self.store(prepared)
        except BaseException as exc:
            self.error = exc
            while self.queue.get() is not None:  # let the producer finish and see the error
                pass
        finally:
            connection.close()
