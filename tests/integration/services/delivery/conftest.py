"""The delivery tests' namespace: the project's topics plus subscriptions, inbox tokens and quick retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.delivery.keyfile import key_path
from services.settings import Settings
from tests.support.notifier import make_notifier_namespace


@pytest.fixture(scope="module")
def settings(broker_settings: Settings) -> Iterator[Settings]:
    settings = make_notifier_namespace(broker_settings)
    yield settings
    key_path(settings).unlink(missing_ok=True)  # the namespace's subscriptions key goes with it
