"""Music or not: speech, nature sounds and silence-heavy recordings are told from music by the
sound description (docs/features.md, "Music and non-music").

Music either keeps a pulse (its onsets repeat at one period: drums, strummed or plucked
patterns) or holds pitches (stable, peaked chroma over a tonal, not noisy, spectrum: sustained
strings, a solo melody). Speech glides in pitch and moves at the rate of syllables, not of a
pulse; rain, wind and birdsong have neither a pulse nor held pitches. A recording that is quiet
most of the time is not treated as music whatever its loud moments are.
"""

from __future__ import annotations

import numpy as np

from catalog.audio.description import COLUMN, GROUP_NAMES

PULSE_AT = 0.42  # pulse_clarity: synthetic speech reaches 0.39, breakbeats 0.45, plucking 0.7
HELD_PITCH_AT = 0.85  # chroma_stability: speech 0.62-0.76, strings and solo brass 0.88-0.97
PEAKED_CHROMA_AT = 2.5  # chroma_peak: noise beds 1.3, tonal music 2.6 and above
TONAL_FLATNESS_BELOW = -20.0  # flatness_mean (dB): noise -1 to -3, music -27 and below
QUIET_SHARE_AT = 0.5  # more than half the time 40 dB under the loud parts: silence-heavy
# A busy loop (a breakbeat) can blur the pulse measure: a weaker pulse counts when the onsets
# repeat strongly at some multiple of the beat and the sound never pauses (speech does).
WEAK_PULSE_AT = 0.3
REPEATING_AT = 0.6  # the largest onset autocorrelation at PATTERN_RATIOS
NO_PAUSES_BELOW = 0.02  # quiet_share: synthetic speech 0.05-0.14, music 0
PATTERN = [COLUMN[name] for name in GROUP_NAMES["groove"] if name.startswith("onset_ac_")]


def is_music(description) -> bool:
    values = np.asarray(description, dtype=np.float64)
    if len(values) != len(COLUMN):
        return True  # an older description: nothing to judge by
    if values[COLUMN["quiet_share"]] >= QUIET_SHARE_AT:
        return False
    clarity = values[COLUMN["pulse_clarity"]]
    pulse = clarity >= PULSE_AT or (
        clarity >= WEAK_PULSE_AT
        and values[PATTERN].max() >= REPEATING_AT
        and values[COLUMN["quiet_share"]] < NO_PAUSES_BELOW
    )
    held_pitches = (
        values[COLUMN["chroma_stability"]] >= HELD_PITCH_AT
        and values[COLUMN["chroma_peak"]] >= PEAKED_CHROMA_AT
        and values[COLUMN["flatness_mean"]] < TONAL_FLATNESS_BELOW
    )
    return bool(pulse or held_pitches)
