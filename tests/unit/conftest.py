"""Unit-test fixtures: a fake embedder, and the real model loaded once per session."""

from __future__ import annotations

import pytest

from services.model_env import use_offline_models
from tests.support.factories import HashEmbedder

use_offline_models()  # the test session is a process entry point: set before any model library is imported


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 model (packaged, offline), loaded once for the session."""
    from matcher.embedding import load_embedder

    return load_embedder()
