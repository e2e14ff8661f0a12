"""Progress for management commands, on stderr so `--json` keeps stdout to one object.

On a terminal: a tqdm bar. Anywhere else (a pipe, a log file, CI) a bar would be noise, but
long work must not be silent either: a plain line at most every PLAIN_EVERY_SECONDS, and one at
the end when the work took that long. Short work stays quiet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator

from tqdm import tqdm

PLAIN_EVERY_SECONDS = 10.0


def progress(items: Iterable, *, total: int | None = None, desc: str, unit: str = "it") -> Iterator:
    """Iterate over `items`, showing how far it got (see the module docstring)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    if sys.stderr.isatty():
        return iter(
            tqdm(
                items,
                total=total,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
            )
        )
    return _plain(items, total=total, desc=desc, unit=unit)


def _plain(items: Iterable, *, total: int | None, desc: str, unit: str) -> Iterator:
    started = last = time.monotonic()
    done = 0
    for item in items:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= PLAIN_EVERY_SECONDS:
            _line(desc, done, total, unit, now - started)
            last = now
    elapsed = time.monotonic() - started
    if elapsed >= PLAIN_EVERY_SECONDS:
        _line(desc, done, total, unit, elapsed, finished=True)


def _line(
    desc: str, done: int, total: int | None, unit: str, seconds: float, *, finished: bool = False
) -> None:
    count = f"{done}/{total}" if total is not None else str(done)
    plural = unit if done == 1 or unit == "it" else f"{unit}s"
    end = "done" if finished else "so far"
    print(f"{desc}: {count} {plural} in {seconds:.0f} s ({end})", file=sys.stderr, flush=True)
