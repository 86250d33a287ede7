"""The worker's RocksDB tables belong to the changelog topics they were filled from; other topics, other tables.

Faust resumes each local table partition at the changelog offset stored with it. That is right only
for the topic the table was filled from. A changelog deleted and created again (a reset, a cluster
rebuilt, the local broker's storage started afresh) or one on another cluster under the same app id
has the same name and other offsets: Faust then stops with a ConsistencyError (the stored offset is
beyond the new topic's end) or, when the new topic is longer, skips its first records and keeps the
old table's. Kafka gives every topic an id when it is created (KIP-516), so the worker notes the ids
of its changelogs in its data directory and starts over from the changelogs when they differ.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from pathlib import Path

from services.kafka import clients
from services.settings import Settings

log = logging.getLogger("matchmaker.worker")

MARKER = "changelog-topics.json"
UNKNOWN = str(uuid.UUID(int=0))  # what a broker without topic ids (before Kafka 2.8) answers


def topic_ids(settings: Settings, topics: list[str]) -> dict[str, str]:
    """Each topic's id on the cluster (the zero UUID where the broker has none)."""
    admin = clients.admin(settings, client_id="matchmaker-worker-state")
    try:
        return {str(t["name"]): str(t["topic_id"]) for t in admin.describe_topics(topics)}
    finally:
        admin.close()


def keep_or_forget(datadir: Path, ids: dict[str, str]) -> bool:
    """Keep the tables under `datadir` only if they were filled from the topics `ids` names; False when they
    were deleted (the next start reads the changelogs from the beginning). Notes `ids` for the next start.

    Tables without a note (written before notes were kept) are forgotten too: nothing says where they
    came from. Where the broker reports no topic ids, the tables are kept, as Faust alone would.
    """
    marker = datadir / MARKER
    noted = json.loads(marker.read_text()) if marker.is_file() else None
    unknown = UNKNOWN in ids.values()
    kept = noted == ids or unknown or not any(datadir.glob("**/*.db"))  # *.db: one table partition's database
    if not kept:
        log.warning(
            "local tables in %s were filled from other changelog topics than the cluster's (deleted and created "
            "again, or another cluster): deleting them; this start reads the changelogs from the beginning",
            datadir,
        )
        shutil.rmtree(datadir)
    if not unknown:
        datadir.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(ids, sort_keys=True) + "\n")
    return kept
