"""After a rebalance, events Faust fetched but dropped are read again (services/kafka/faust_patches.py)."""

from __future__ import annotations

from types import SimpleNamespace

from faust.transport.consumer import Consumer
from faust.types import TP

from services.kafka import faust_patches


def test_after_a_rebalance_uncommitted_stream_partitions_are_read_again_from_the_start():
    consumer = SimpleNamespace(
        app=SimpleNamespace(tables=SimpleNamespace(changelog_topics={"app-companies-changelog"})),
        assignment=lambda: {TP("challenges", 0), TP("challenges", 1), TP("app-companies-changelog", 0)},
        _committed_offset={TP("challenges", 1): 17},
    )
    assert faust_patches.uncommitted_stream_partitions(consumer) == {TP("challenges", 0): 0}


def test_the_patch_wraps_perform_seek_once():
    faust_patches.apply()
    patched = Consumer.perform_seek
    faust_patches.apply()
    assert Consumer.perform_seek is patched
