"""Tasks that exist only in the test suite's own Celery workers (loaded with `-I`).

Never imported by product code.
"""

from pathlib import Path

from musicrec.celery import app


@app.task(name="tests.touch")
def touch(path: str, text: str) -> None:
    Path(path).write_text(text)
