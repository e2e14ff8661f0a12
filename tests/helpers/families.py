"""A labelled evaluation set for "similar sounding": synthesised clips of clearly different
families of sound, each clip with its own key, tempo, level and tone colour, so that loudness
and brightness alone cannot tell the families apart (docs/features.md, "How well it works").

Used by tests/catalog/test_sound_families.py and bench/similar_family.py. numpy only, 22,050 Hz.
"""

from __future__ import annotations

import numpy as np

SR = 22_050
MUSIC_FAMILIES = ("strings", "plucked", "four_floor", "breakbeat", "brass")
OTHER_FAMILIES = ("speech", "noise_bed", "birdsong")
FAMILIES = MUSIC_FAMILIES + OTHER_FAMILIES


def clip(family: str, rng: np.random.Generator, seconds: float = 8.0) -> np.ndarray:
    """One clip of `family`, float32 mono at SR, peak between -30 and -3 dBFS."""
    n = int(seconds * SR)
    audio = _MAKERS[family](rng, n)[:n]
    audio = _tilt(audio, rng.uniform(-0.4, 0.3))
    peak = np.max(np.abs(audio)) or 1.0
    return (audio / peak * 10 ** (rng.uniform(-30, -3) / 20)).astype(np.float32)


def labelled_set(per_family: int = 5, seconds: float = 8.0, seed: int = 0):
    """[(family, clip)], `per_family` clips of each family."""
    rng = np.random.default_rng(seed)
    return [(family, clip(family, rng, seconds)) for family in FAMILIES for _ in range(per_family)]


# --- the families -------------------------------------------------------------------------------


def _strings(rng, n):
    """Sustained bowed chords: slow attack, sawtooth-like partials, vibrato, an ensemble."""
    t = np.arange(n) / SR
    out = np.zeros(n)
    tonic = 110 * 2 ** (rng.integers(0, 12) / 12)
    chord_s = rng.uniform(2.0, 3.5)
    triads = [(0, 4, 7), (5, 9, 12), (7, 11, 14), (-3, 0, 4)] if rng.random() < 0.5 else [
        (0, 3, 7), (5, 8, 12), (7, 10, 14), (-4, 0, 3)]  # fmt: skip
    rolloff = rng.uniform(0.8, 1.4)
    for k, start in enumerate(np.arange(0, n / SR, chord_s)):
        span = slice(int(start * SR), min(n, int((start + chord_s + 0.4) * SR)))
        local = t[span] - start
        env = np.minimum(1, local / rng.uniform(0.3, 0.7)) * np.exp(
            -np.maximum(0, local - chord_s) * 8
        )
        for semitone in triads[k % 4]:
            for voice in range(3):
                f = tonic * 2 ** (semitone / 12) * (1 + rng.normal(0, 0.002))
                phase = 2 * np.pi * f * local + 0.004 * f / 5.5 * np.sin(
                    2 * np.pi * 5.5 * local + voice
                )
                for h in range(1, 11):
                    out[span] += env * np.sin(h * phase) / h**rolloff / 3
    return out


def _plucked(rng, n):
    """Plucked-string arpeggios: sharp attacks, partials that die away, upper ones faster."""
    out = np.zeros(n)
    tonic = 196 * 2 ** (rng.integers(0, 12) / 12)
    step = 60 / rng.uniform(80, 140) / 2
    pattern = (0, 7, 12, 16, 19, 16, 12, 7) if rng.random() < 0.5 else (0, 7, 12, 15, 19, 15, 12, 7)
    shift = (0, 5, 7, 0)
    decay = rng.uniform(2.0, 4.0)
    for k, start in enumerate(np.arange(0, n / SR, step)):
        begin = int(start * SR)
        length = min(n - begin, int(1.5 * SR))
        local = np.arange(length) / SR
        f = tonic * 2 ** ((pattern[k % 8] + shift[(k // 16) % 4]) / 12)
        for h in range(1, 9):
            out[begin : begin + length] += (np.sin(2 * np.pi * f * h * local)
                                            * np.exp(-local * decay * h) / h)  # fmt: skip
    return out


def _kick(length, rng):
    local = np.arange(length) / SR
    sweep = 2 * np.pi * (50 * local + 100 * (1 - np.exp(-local * 30)) / 30)
    return np.sin(sweep) * np.exp(-local * rng.uniform(12, 20))


def _hat(length, rng, decay=60.0):
    local = np.arange(length) / SR
    noise = np.diff(rng.standard_normal(length + 1))  # high-passed
    return noise * np.exp(-local * decay)


def _snare(length, rng):
    local = np.arange(length) / SR
    return (0.6 * rng.standard_normal(length) + np.sin(2 * np.pi * 190 * local)) * np.exp(
        -local * 25
    )


def _place(out, sound, at):
    begin = int(at * SR)
    if begin < len(out):
        part = sound[: len(out) - begin]
        out[begin : begin + len(part)] += part


def _four_floor(rng, n):
    """A kick on every beat, an open hi-hat between, a clap on 2 and 4, a pulsing bass."""
    out = np.zeros(n)
    beat = 60 / rng.uniform(118, 132)
    bass_f = 41.2 * 2 ** (rng.integers(0, 12) / 12)
    for k, start in enumerate(np.arange(0, n / SR, beat)):
        _place(out, 1.6 * _kick(int(0.3 * SR), rng), start)
        _place(out, 0.35 * _hat(int(0.12 * SR), rng, 30), start + beat / 2)
        if k % 2 == 1:
            _place(out, 0.5 * _snare(int(0.15 * SR), rng), start)
        local = np.arange(int(beat / 2 * SR)) / SR
        _place(
            out, 0.5 * np.sin(2 * np.pi * bass_f * 2 * local) * np.exp(-local * 6), start + beat / 2
        )
    return out


def _breakbeat(rng, n):
    """A syncopated break at drum and bass tempo: kicks off the beat, snares on 2 and 4, ghost
    notes and sixteenth hi-hats, over a long sub-bass."""
    out = np.zeros(n)
    sixteenth = 60 / rng.uniform(160, 178) / 4
    kicks, snares, ghosts = {0, 10}, {4, 12}, {7, 15} if rng.random() < 0.5 else {9, 14}
    t = np.arange(n) / SR
    out += 0.3 * np.sin(2 * np.pi * 36.7 * 2 ** (rng.integers(0, 7) / 12) * t)
    for k, start in enumerate(np.arange(0, n / SR, sixteenth)):
        step = k % 16
        if step in kicks:
            _place(out, 1.4 * _kick(int(0.2 * SR), rng), start)
        if step in snares:
            _place(out, 0.9 * _snare(int(0.18 * SR), rng), start)
        if step in ghosts:
            _place(out, 0.3 * _snare(int(0.08 * SR), rng), start)
        _place(out, 0.15 * _hat(int(0.04 * SR), rng, 90), start)
    return out


def _brass(rng, n):
    """A solo melody: legato notes with bright partials that open up, a little vibrato."""
    out = np.zeros(n)
    tonic = 233 * 2 ** (rng.integers(0, 12) / 12)
    scale = (0, 2, 4, 5, 7, 9, 11, 12)
    position = 0.0
    degree = 3
    while position < n / SR:
        length = rng.choice([0.25, 0.5, 0.75]) * 60 / rng.uniform(70, 110) * 2
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 7))
        begin, count = int(position * SR), int(length * SR)
        local = np.arange(min(count, n - begin)) / SR
        f = tonic * 2 ** (scale[degree] / 12)
        env = np.minimum(1, local / 0.04) * np.exp(-np.maximum(0, local - length + 0.05) * 40)
        phase = 2 * np.pi * f * local + 0.003 * f / 6 * np.sin(2 * np.pi * 6 * local)
        for h in range(1, 9):
            out[begin : begin + len(local)] += env * np.sin(h * phase) * h**0.5 * np.exp(-h / 3)
        position += length
    return out


def _speech(rng, n):
    """Speech-like: a glottal pulse train whose pitch glides, through formants that sweep from
    vowel to vowel at the rate of syllables, with hiss for fricatives and pauses between words."""
    t = np.arange(n) / SR
    f0 = rng.uniform(95, 210) * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 0.7) * t)
                                 - 0.1 * (t % 2.0) / 2.0)  # fmt: skip
    phase = np.cumsum(2 * np.pi * f0 / SR)
    source = np.zeros(n)
    for h in range(1, 30):
        source += np.sin(h * phase) / h
    vowels = np.array([(730, 1090), (270, 2290), (300, 870), (530, 1840), (640, 1190)])
    rate = rng.uniform(3.5, 5.5)
    syllable = np.floor(t * rate).astype(int)
    targets = vowels[rng.integers(0, len(vowels), syllable.max() + 2)]
    frac = (t * rate) % 1.0
    f1 = targets[syllable, 0] * (1 - frac) + targets[syllable + 1, 0] * frac
    f2 = targets[syllable, 1] * (1 - frac) + targets[syllable + 1, 1] * frac
    out = np.zeros(n)
    block = 256
    for start in range(0, n, block):  # formant filtering, block by block (frequencies move)
        piece = source[start : start + block]
        spectrum = np.fft.rfft(piece, 2 * block)
        freqs = np.fft.rfftfreq(2 * block, 1 / SR)
        gain = sum(1 / (1 + ((freqs - f[start]) / 90) ** 2) for f in (f1, f2))
        out[start : start + block] += np.fft.irfft(spectrum * gain)[: len(piece)]
    envelope = np.sin(np.pi * frac) ** 0.7
    words = rng.random(syllable.max() + 1) < 0.2  # a pause instead of some syllables
    envelope[words[syllable]] = 0.0
    hiss = np.diff(rng.standard_normal(n + 1)) * (frac > 0.8) * 0.05
    return out * envelope + hiss


def _noise_bed(rng, n):
    """Rain or wind: coloured noise that swells and ebbs slowly."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    spectrum *= 1 / (1 + freqs / rng.uniform(200, 3000)) ** rng.uniform(0.5, 1.5)
    t = np.arange(n) / SR
    gusts = 1 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.08, 0.4) * t + rng.uniform(0, 6))
    return np.fft.irfft(spectrum, n) * gusts


def _birdsong(rng, n):
    """Birdsong: fast high chirps in irregular phrases, silence between, a faint background."""
    out = 0.01 * rng.standard_normal(n)
    position = rng.uniform(0, 0.5)
    while position < n / SR:
        for _ in range(rng.integers(2, 7)):
            length = rng.uniform(0.04, 0.18)
            begin = int(position * SR)
            local = np.arange(min(int(length * SR), max(0, n - begin))) / SR
            low, high = rng.uniform(2000, 4000), rng.uniform(4000, 7000)
            f = low + (high - low) * (local / length) ** rng.uniform(0.5, 2)
            if rng.random() < 0.5:
                f = f[::-1]
            chirp = np.sin(2 * np.pi * np.cumsum(f) / SR) * np.sin(np.pi * local / length)
            out[begin : begin + len(chirp)] += chirp
            position += length + rng.uniform(0.02, 0.1)
        position += rng.uniform(0.5, 2.0)
    return out


def _tilt(audio: np.ndarray, slope: float) -> np.ndarray:
    """Tone colour: the spectrum times (f / 1 kHz) ** slope (negative: darker)."""
    spectrum = np.fft.rfft(audio)
    freqs = np.maximum(np.fft.rfftfreq(len(audio), 1 / SR), 20.0)
    return np.fft.irfft(spectrum * (freqs / 1000.0) ** slope, len(audio))


_MAKERS = {
    "strings": _strings,
    "plucked": _plucked,
    "four_floor": _four_floor,
    "breakbeat": _breakbeat,
    "brass": _brass,
    "speech": _speech,
    "noise_bed": _noise_bed,
    "birdsong": _birdsong,
}


def analysed_set(per_family: int = 5, seconds: float = 6.0, seed: int = 0):
    """(families, raw 16 numbers, descriptions, is_music) of labelled_set's clips, analysed by
    the extractor exactly as an upload is after decoding."""
    from catalog.audio.features import compute

    families, raw, description, music = [], [], [], []
    for family, audio in labelled_set(per_family, seconds, seed):
        features = compute(audio, SR)
        families.append(family)
        raw.append(features.vector())
        description.append(features.description)
        music.append(features.is_music)
    return families, np.array(raw), np.array(description), np.array(music)


def index_top3_rate(families: list[str], index) -> float:
    """Share of each clip's top 3 "similar" (SimilarityIndex.similar) in the clip's family."""
    hits = 0
    for row, family in enumerate(families):
        found = index.similar(int(index.track_ids[row]), 3)
        hits += sum(families[index.row_of[m.track_id]] == family for m in found)
    return hits / (3 * len(families))
