"""Synthesised music in six styles the real audio features can tell apart. numpy only.

Each style declares the tempo band and the mood it is meant to have; tests/listening check that
the real analysis recovers them for most tracks of the style.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 22_050

MAJOR_PROGRESSIONS = [(0, 7, 9, 5), (0, 5, 7, 0), (0, 9, 5, 7)]  # I-V-vi-IV, I-IV-V-I, I-vi-IV-V
MINOR_PROGRESSIONS = [(0, 8, 3, 10), (0, 5, 7, 0), (0, 10, 8, 7)]  # i-VI-III-VII, i-iv-v-i, ...
MAJOR_TRIAD, MINOR_TRIAD = (0, 4, 7), (0, 3, 7)
# chord roots of the progressions above that take a minor triad in a major key and vice versa
MINOR_DEGREES_IN_MAJOR = {2, 4, 9}
MAJOR_DEGREES_IN_MINOR = {3, 8, 10}


@dataclass(frozen=True, kw_only=True)
class Style:
    name: str
    tempo: tuple[float, float]  # BPM band the tracks are written in
    mode: str
    mood: str  # the mood flag the style is meant to carry
    level: float  # peak level
    harmonics: tuple[float, ...]  # timbre of the chord instrument
    decay: float  # note decay rate (1/s): piano-like high, pads low
    pattern: str  # drum pattern
    drive: float  # distortion (0 = clean)
    arpeggio: bool
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]


STYLES: tuple[Style, ...] = (
    Style(
        name="nocturne",
        tempo=(62, 74),
        mode="minor",
        mood="calm",
        level=0.10,
        harmonics=(1.0, 0.25, 0.08),
        decay=2.2,
        pattern="none",
        drive=0.0,
        arpeggio=True,
        adjectives=("Quiet", "Pale", "Distant", "Velvet", "Slow", "Grey", "Lonely", "Winter"),
        nouns=("Rain", "Nocturne", "Letters", "Harbour", "Candle", "Hours", "Echo", "Snowfall"),
    ),
    Style(
        name="sunlit pop",
        tempo=(112, 126),
        mode="major",
        mood="happy",
        level=0.55,
        harmonics=(1.0, 0.7, 0.55, 0.4, 0.3, 0.2),
        decay=3.0,
        pattern="pop",
        drive=0.0,
        arpeggio=False,
        adjectives=("Golden", "Sunny", "Electric", "Sweet", "Bright", "Summer", "Lucky", "Neon"),
        nouns=("Heart", "Holiday", "Sunshine", "Weekend", "Lemonade", "Radio", "Kiss", "Parade"),
    ),
    Style(
        name="warehouse",
        tempo=(124, 134),
        mode="minor",
        mood="energetic",
        level=0.95,
        harmonics=(1.0, 0.8, 0.6, 0.5, 0.4),
        decay=6.0,
        pattern="four_on_floor",
        drive=0.4,
        arpeggio=False,
        adjectives=("Concrete", "Pulse", "Strobe", "Iron", "Binary", "Acid", "Black", "Machine"),
        nouns=("Circuit", "Tunnel", "Signal", "Engine", "Loop", "System", "Voltage", "Grid"),
    ),
    Style(
        name="lounge",
        tempo=(88, 100),
        mode="major",
        mood="happy",
        level=0.16,
        harmonics=(1.0, 0.5, 0.25, 0.1),
        decay=1.5,
        pattern="soft",
        drive=0.0,
        arpeggio=True,
        adjectives=("Lazy", "Soft", "Coastal", "Mellow", "Easy", "Linen", "Honey", "Cool"),
        nouns=("Breeze", "Terrace", "Cocktail", "Afternoon", "Balcony", "Lagoon", "Samba", "Palms"),
    ),
    Style(
        name="riot",
        tempo=(162, 178),
        mode="major",
        mood="energetic",
        level=0.95,
        harmonics=(1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
        decay=2.0,
        pattern="fast",
        drive=0.8,
        arpeggio=False,
        adjectives=(
            "Loud",
            "Wild",
            "Broken",
            "Rebel",
            "Burning",
            "Reckless",
            "Screaming",
            "Teenage",
        ),
        nouns=("Riot", "Engine", "Garage", "Anthem", "Fire", "Youth", "Static", "Alarm"),
    ),
    Style(
        name="doom",
        tempo=(64, 76),
        mode="minor",
        mood="sad",
        level=0.85,
        harmonics=(1.0, 0.7, 0.5, 0.35),
        decay=0.8,
        pattern="half_time",
        drive=0.7,
        arpeggio=False,
        adjectives=("Funeral", "Ashen", "Leaden", "Hollow", "Sunken", "Dying", "Cold", "Buried"),
        nouns=("Monolith", "Grave", "Marsh", "Shroud", "Abyss", "Ruin", "Winter", "Tomb"),
    ),
)
STYLE_BY_NAME = {style.name: style for style in STYLES}


def render(style: Style, rng: np.random.Generator, seconds: float = 20.0) -> np.ndarray:
    """One track of `style`: tempo, key and progression drawn from `rng`. Mono float32 at SR."""
    bpm = float(rng.uniform(*style.tempo))
    tonic = 110.0 * 2 ** (int(rng.integers(0, 12)) / 12)  # A2 .. G#3
    progressions = MAJOR_PROGRESSIONS if style.mode == "major" else MINOR_PROGRESSIONS
    progression = progressions[int(rng.integers(0, len(progressions)))]
    n = int(seconds * SR)
    beat = 60.0 / bpm
    bar = 4 * beat
    music = np.zeros(n, dtype=np.float64)

    for bar_index, start in enumerate(np.arange(0.0, seconds, bar)):
        degree = progression[bar_index % len(progression)]
        chord = _triad(style.mode, degree)
        root = tonic * 2 ** (degree / 12)
        if style.arpeggio:
            order = (0, 2, 3, 1)  # root, fifth, octave, third
            notes = [*chord, chord[0] + 12]
            for i in range(4):
                _note(music, start + i * beat, 2 * beat, tonic * 2 ** ((degree + notes[order[i]])
                      / 12), style, 0.8)  # fmt: skip
        else:
            for semitone in chord:
                _note(music, start, bar, tonic * 2 ** ((degree + semitone) / 12), style, 0.5)
        _note(music, start, bar, root / 2, style, 0.7, harmonics=(1.0, 0.3))  # bass
    music /= max(np.max(np.abs(music)), 1e-9)

    drums = _drums(style.pattern, n, beat, rng)
    mix = music + drums
    if style.drive > 0:
        mix = np.tanh((1 + 6 * style.drive) * mix) / np.tanh(1 + 6 * style.drive)
    mix += 0.002 * rng.standard_normal(n)  # a noise floor, as recordings have
    level = style.level * float(rng.uniform(0.85, 1.0))
    return (level * mix / max(np.max(np.abs(mix)), 1e-9)).astype(np.float32)


def _triad(mode: str, degree: int) -> tuple[int, int, int]:
    minor = (
        degree in MINOR_DEGREES_IN_MAJOR
        if mode == "major"
        else degree not in (MAJOR_DEGREES_IN_MINOR)
    )
    return MINOR_TRIAD if minor else MAJOR_TRIAD


def _note(
    out: np.ndarray,
    start: float,
    length: float,
    freq: float,
    style: Style,
    gain: float,
    harmonics: tuple[float, ...] | None = None,
) -> None:
    first = int(start * SR)
    last = min(len(out), int((start + length) * SR))
    if first >= last:
        return
    t = np.arange(last - first) / SR
    envelope = np.exp(-t * style.decay) * np.minimum(1.0, t / 0.01)
    tone = np.zeros_like(t)
    for h, amplitude in enumerate(harmonics or style.harmonics, start=1):
        if freq * h < SR / 2:
            tone += amplitude * np.sin(2 * np.pi * freq * h * t)
    out[first:last] += gain * envelope * tone


def _drums(pattern: str, n: int, beat: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    if pattern == "none":
        return out
    steps = {  # per beat: (kick beats, snare beats, hat subdivisions, gain)
        "pop": ({0, 2}, {1, 3}, 2, 0.9),
        "four_on_floor": ({0, 1, 2, 3}, {1, 3}, 2, 1.3),
        "soft": ({0, 2}, {1, 3}, 2, 0.35),
        "fast": ({0, 2}, {1, 3}, 2, 1.2),
        "half_time": ({0}, {2}, 1, 1.2),
    }[pattern]
    kicks, snares, hats_per_beat, gain = steps
    bar = 4 * beat
    for bar_start in np.arange(0.0, n / SR, bar):
        for b in kicks:
            _hit(out, bar_start + b * beat, _kick(), gain)
        for b in snares:
            _hit(out, bar_start + b * beat, _snare(rng), 0.7 * gain)
        for i in range(4 * hats_per_beat):
            _hit(out, bar_start + i * beat / hats_per_beat, _hat(rng), 0.25 * gain)
    return out


def _hit(out: np.ndarray, when: float, sound: np.ndarray, gain: float) -> None:
    first = int(when * SR)
    last = min(len(out), first + len(sound))
    if first < last:
        out[first:last] += gain * sound[: last - first]


def _kick() -> np.ndarray:
    t = np.arange(int(0.25 * SR)) / SR
    phase = 2 * np.pi * (45 * t + (120 - 45) * (1 - np.exp(-t * 30)) / 30)
    return np.sin(phase) * np.exp(-t * 14)


def _snare(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.18 * SR)) / SR
    return (0.7 * rng.standard_normal(len(t)) + 0.5 * np.sin(2 * np.pi * 185 * t)) * np.exp(-t * 22)


def _hat(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.05 * SR)) / SR
    noise = rng.standard_normal(len(t))
    return np.diff(noise, prepend=0.0) * np.exp(-t * 80)  # differencing: high frequencies
