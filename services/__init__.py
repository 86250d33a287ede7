"""The Kafka-facing processes of the matchmaker, and the Python SDK for publishers.

    from services import Publisher          # same as: from services.kafka.publisher import Publisher

`Publisher` is imported on first access: every `services.*` module imports this package, and most
of them (the CLI, the ingest API, the notifier) never publish with it. Neither this package nor the
publisher imports the matcher's numeric stack (scikit-learn, torch, sentence-transformers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.kafka.publisher import MessageTooLarge, Publisher, publish_file

_LAZY = {"MessageTooLarge", "Publisher", "publish_file"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from services.kafka import publisher

        return getattr(publisher, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["MessageTooLarge", "Publisher", "publish_file"]
