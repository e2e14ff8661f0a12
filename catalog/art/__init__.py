"""Pictures of tracks: the file's own cover art, else a picture drawn from how the track sounds.

`draw` is pure (no Django); `covers` reads, resizes and stores embedded art. docs/player.md,
"Pictures".
"""
