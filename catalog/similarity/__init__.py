from catalog.similarity.index import ArtistMatch, Match, SimilarityIndex

__all__ = ["ArtistMatch", "Match", "SimilarityIndex"]
