"""The delivery tests' namespace: the project's topics plus subscriptions, inbox tokens and quick retries."""

from __future__ import annotations

import pytest

from services.settings import Settings
from tests.support.notifier import make_notifier_namespace


@pytest.fixture(scope="module")
def settings(broker_settings: Settings) -> Settings:
    return make_notifier_namespace(broker_settings)
