"""core.progress: a bar on a terminal; plain lines in a log or pipe, so long work is not silent."""

from core import progress as progress_module
from core.progress import progress


def test_short_work_in_a_pipe_is_quiet(capsys):
    assert list(progress(range(5), desc="importing", unit="file")) == [0, 1, 2, 3, 4]
    assert capsys.readouterr().err == ""


def test_long_work_in_a_pipe_says_how_far_it_got_and_when_it_is_done(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_SECONDS", 0.0)  # every item counts as long
    seen = []
    for item in progress(["a", "b", "c"], desc="synthesising and analysing", unit="track"):
        seen.append(item)
    captured = capsys.readouterr()
    assert seen == ["a", "b", "c"]
    assert captured.out == ""  # stdout stays for --json
    lines = captured.err.splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "synthesising and analysing: 1/3 track",
        "synthesising and analysing: 2/3 tracks",
        "synthesising and analysing: 3/3 tracks",
        "synthesising and analysing: 3/3 tracks",
    ]
    assert lines[-1].endswith("(done)")


def test_a_generator_without_a_length_counts_without_a_total(capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_SECONDS", 0.0)
    assert sum(progress((n for n in range(4)), desc="listening", unit="user")) == 6
    assert capsys.readouterr().err.splitlines()[-1].startswith("listening: 4 users in ")
