"""Progress bars for management commands: on stderr, so `--json` keeps stdout to one object."""

import sys
from collections.abc import Iterable, Iterator

from tqdm import tqdm


def progress(items: Iterable, *, total: int | None = None, desc: str, unit: str = "it") -> Iterator:
    """A tqdm bar on stderr that draws only on a terminal (logs and pipes stay clean)."""
    return iter(
        tqdm(
            items,
            total=total,
            desc=desc,
            unit=unit,
            file=sys.stderr,
            disable=None,  # None: off when stderr is not a TTY
            dynamic_ncols=True,
            leave=False,
        )
    )
