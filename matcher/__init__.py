"""The matching library: embeddings, signals, rules and ranking. No Kafka in here.

Public surface::

    from matcher import Ranker, load_embedder, challenge_text, company_text
    embedder = load_embedder()                       # all-MiniLM-L6-v2, offline
    ranker = Ranker(embedder.dimension, top_k=10)
    ranker.upsert_company(company, embedder.encode([company_text(company)])[0])
    ranker.rank_companies(challenge, embedder.encode([challenge_text(challenge)])[0])
"""

from matcher.embedding import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder, load_embedder
from matcher.offline import rank_challenges_offline
from matcher.ranker import Match, Ranker, merge_partial_rankings
from matcher.rules import challenge_is_open, city_fits, company_is_active, eligible
from matcher.text import challenge_text, company_text

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "Match",
    "Ranker",
    "SentenceTransformerEmbedder",
    "challenge_is_open",
    "challenge_text",
    "city_fits",
    "company_is_active",
    "company_text",
    "eligible",
    "load_embedder",
    "merge_partial_rankings",
    "rank_challenges_offline",
]
