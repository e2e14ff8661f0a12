"""Row 18: analysis memory on the longest, widest audio accepted (20 minutes at 192 kHz, 8
channels), measured as the kernel's peak resident set (VmHWM) of a child process set up as a
worker child is (Django, the task modules, the warmed-up pipeline). docs/reliability.md, row 18."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import audio
from tests.helpers.processes import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# docs/reliability.md: what a worker child may use at most on any file
ANALYSIS_MEMORY_BOUND_MB = 800

CHILD = """
import json, sys, time
import django
django.setup()
import catalog.tasks  # what a worker child has imported
import soundfile
from catalog.audio import analyse_file, warm_up
def peak_mb():  # VmHWM: this process's own high-water mark (ru_maxrss keeps the parent's
    for line in open("/proc/self/status"):  # from before exec)
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
warm_up()
before = peak_mb()
started = time.perf_counter()
features = analyse_file(sys.argv[1], expected_frames=soundfile.info(sys.argv[1]).frames,
                        max_seconds=1200)
print(json.dumps({"before_mb": before, "seconds": time.perf_counter() - started,
                  "peak_mb": peak_mb(),
                  "duration_s": features.duration_s, "is_music": features.is_music}))
"""


def test_twenty_minutes_at_192_khz_in_8_channels_stays_under_the_bound(tmp_path, measure):
    path = audio.long_quiet_flac(tmp_path / "long.flac")
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], cwd=REPO, capture_output=True, text=True,
        timeout=800, env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["duration_s"] == pytest.approx(1200, abs=0.5)  # all of it was analysed
    assert figures["peak_mb"] < ANALYSIS_MEMORY_BOUND_MB, figures
    assert figures["is_music"] is False  # 5 s of tone in 20 minutes: silence-heavy
    measure(file_mb=path.stat().st_size / 2**20, **figures)
