"""Tasks that exist only in the test suite's own Celery workers (loaded with `-I`).

Never imported by product code.
"""

from pathlib import Path

from musicrec.celery import app


@app.task(name="tests.touch")
def touch(path: str, text: str) -> None:
    Path(path).write_text(text)


def _poison_analysis() -> None:
    """MUSICREC_TEST_POISON=<suffix,...>: this worker process dies (SIGKILL) whenever it starts
    analysing a stored file whose name ends so. Simulates a file that crashes the decoder."""
    import os
    import signal

    suffixes = [s for s in os.environ.get("MUSICREC_TEST_POISON", "").split(",") if s]
    if not suffixes:
        return
    from catalog.services import analysis

    original = analysis.analyse_file

    def poisoned(path, **kwargs):
        if str(path).endswith(tuple(suffixes)):
            os.kill(os.getpid(), signal.SIGKILL)
        return original(path, **kwargs)

    analysis.analyse_file = poisoned


def _poison_retrain() -> None:
    """MUSICREC_TEST_POISON_RETRAIN=1: this worker process dies (SIGKILL) as each retrain starts
    training (a trainer that runs out of memory, simulated outside product code)."""
    import os
    import signal

    if os.environ.get("MUSICREC_TEST_POISON_RETRAIN") != "1":
        return
    from recommender.services import training

    def poisoned(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    training._train = poisoned


_poison_analysis()
_poison_retrain()
