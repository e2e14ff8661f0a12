"""The names of the 16 numbers, in the order of docs/features.md: the one definition.

The model's columns (`AudioFeatures.VECTOR_FIELDS`), the similarity index's columns, the API's
`vector` and the benchmark's bulk rows all derive from these tuples.
"""

N_MFCC = 5
MFCC_NAMES = tuple(f"mfcc_{i}" for i in range(1, N_MFCC + 1))
RHYTHM_NAMES = ("tempo", "beat_strength")
DYNAMICS_NAMES = ("energy", "loudness")
SPECTRUM_NAMES = ("spectral_centroid", "spectral_rolloff", "spectral_bandwidth")
MOOD_NAMES = ("happy", "sad", "energetic", "calm")

FEATURE_NAMES = (*MFCC_NAMES, *RHYTHM_NAMES, *DYNAMICS_NAMES, *SPECTRUM_NAMES, *MOOD_NAMES)
VECTOR_LENGTH = len(FEATURE_NAMES)
