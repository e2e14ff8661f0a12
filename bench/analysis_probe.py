"""Audio analysis speed in one warm process, BLAS at one thread.

    python bench/analysis_probe.py OUT_DIR
Writes a 3-minute 44.1 kHz stereo FLAC (synthesised pop), warms the pipeline up, analyses the file
three times and prints {"seconds", "realtime_factor"} (seconds of audio per second of work, median).
"""

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile
import soxr
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.audio import analyse_file, warm_up
from listening.demo.synth import SR, STYLE_BY_NAME, render

DURATION = 180.0


def three_minute_flac(folder: Path, seed: int = 1) -> Path:
    music = render(STYLE_BY_NAME["sunlit pop"], np.random.default_rng(seed), DURATION)
    at_44k = soxr.resample(music, SR, 44_100).astype(np.float32)
    stereo = np.stack([at_44k, 0.9 * at_44k], axis=1)
    path = folder / f"three-minutes-{seed}.flac"
    soundfile.write(path, stereo, 44_100, format="FLAC", subtype="PCM_16")
    return path


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    path = three_minute_flac(folder)
    frames = soundfile.info(str(path)).frames
    with threadpool_limits(limits=1):
        warm_up()
        times = []
        for _ in range(3):
            started = time.perf_counter()
            analyse_file(path, expected_frames=frames, max_seconds=1200)
            times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    print(json.dumps({"seconds": seconds, "realtime_factor": DURATION / seconds}))
