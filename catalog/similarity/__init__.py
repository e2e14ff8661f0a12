"""'Similar sounding': `embedding` turns features into vectors, `index` ranks and explains,
`store` keeps the process-wide index in step with the database."""

from catalog.similarity.index import ArtistMatch, Match, SimilarityIndex

__all__ = ["ArtistMatch", "Match", "SimilarityIndex"]
