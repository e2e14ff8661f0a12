"""A picture drawn from a track's sound: deterministic, and alike for tracks that sound alike.

Each visual property follows one feature through a smooth, fixed mapping (not one relative to the
catalogue, so a picture never changes when other tracks arrive): brightness (spectral centroid)
sets the hue, energy the saturation, loudness the lightness, tempo the number of waves, beat
strength their thickness, timbre (MFCC 2-5) their shape, and the moods shift the second colour.
Close feature vectors give close parameters, so similar-sounding tracks look related.
Pure Python: no Django, no numpy.
"""

from __future__ import annotations

import hashlib
import math

SIZE = 100  # the viewBox; rendered at any size
FEATURES = (
    "mfcc_1", "mfcc_2", "mfcc_3", "mfcc_4", "mfcc_5",
    "tempo", "beat_strength", "energy", "loudness",
    "spectral_centroid", "spectral_rolloff", "spectral_bandwidth",
    "happy", "sad", "energetic", "calm",
)  # fmt: skip


def _unit(value: float, low: float, high: float) -> float:
    """`value` mapped linearly from [low, high] to [0, 1], clipped."""
    if not math.isfinite(value):
        return 0.5
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _soft(value: float, scale: float) -> float:
    """A value of any sign squashed smoothly into (-1, 1)."""
    return math.tanh(value / scale) if math.isfinite(value) else 0.0


def picture_params(vector: list[float]) -> dict:
    """The drawing's parameters from the 16-vector (docs/features.md order)."""
    f = dict(zip(FEATURES, vector, strict=True))
    brightness = _unit(math.log2(max(f["spectral_centroid"], 1.0)), math.log2(400), math.log2(6000))
    energy = _unit(f["energy"], 0.0, 1.0)
    mood_shift = 40 * f["happy"] - 40 * f["sad"] + 25 * f["energetic"] - 25 * f["calm"]
    hue = 265 - 230 * brightness  # dark and warm-bodied: violet; bright: amber
    tempo = max(f["tempo"], 1.0)
    return {
        "hue": hue % 360,
        "hue2": (hue + 50 + mood_shift) % 360,
        "saturation": 35 + 50 * energy,
        "lightness": 30 + 30 * _unit(f["loudness"], -40.0, -3.0),
        "waves": 3 + round(4 * _unit(math.log2(tempo), math.log2(60), math.log2(180))),
        "thickness": 1.2 + 4.5 * _unit(f["beat_strength"], 0.0, 1.0),
        "shape": [_soft(f[name], 40.0) for name in ("mfcc_2", "mfcc_3", "mfcc_4", "mfcc_5")],
        "spread": 0.35 + 0.5 * _unit(f["spectral_bandwidth"], 0.0, 1.0),
    }


def _wave(params: dict, i: int) -> str:
    """One wave across the picture, its curve set by the timbre coefficients."""
    a, b, c, d = params["shape"]
    rows = params["waves"]
    y0 = SIZE * (i + 1) / (rows + 1)
    amplitude = SIZE * params["spread"] / (rows + 1)
    points = []
    for step in range(0, 21):
        x = SIZE * step / 20
        t = 2 * math.pi * step / 20
        y = y0 + amplitude * (
            0.6 * a * math.sin(t + i * 0.7)
            + 0.4 * b * math.sin(2 * t + c * 2)
            + 0.3 * d * math.cos(3 * t + i)
        )
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def picture_svg(vector: list[float] | None, *, key: str) -> str:
    """The picture as an SVG document. Without features (not analysed yet, or no audio) a quiet
    grey picture whose tint comes from `key` (say the track's title and artist), still stable."""
    if vector is None:
        tint = int(hashlib.sha1(key.encode()).hexdigest()[:4], 16) % 360
        return _svg(f"hsl({tint}, 12%, 42%)", f"hsl({(tint + 40) % 360}, 10%, 58%)", [], 0, "")
    p = picture_params(vector)
    top = f"hsl({p['hue']:.0f}, {p['saturation']:.0f}%, {p['lightness']:.0f}%)"
    bottom = f"hsl({p['hue2']:.0f}, {p['saturation']:.0f}%, {p['lightness'] * 0.7:.0f}%)"
    line = f"hsl({p['hue2']:.0f}, {min(p['saturation'] + 15, 100):.0f}%, 88%)"
    waves = [_wave(p, i) for i in range(p["waves"])]
    return _svg(top, bottom, waves, p["thickness"], line)


def _svg(top: str, bottom: str, waves: list[str], thickness: float, line: str) -> str:
    lines = "".join(
        f'<polyline points="{points}" fill="none" stroke="{line}" stroke-width="{thickness:.1f}"'
        f' stroke-linecap="round" stroke-linejoin="round" opacity="{0.45 + 0.5 * (i % 2):.2f}"/>'
        for i, points in enumerate(waves)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" width="512"'
        ' height="512"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        f'</linearGradient></defs><rect width="{SIZE}" height="{SIZE}" fill="url(#g)"/>'
        f"{lines}</svg>"
    )
