"""Local RocksDB tables are kept for the changelog topics they came from and dropped for any others."""

from __future__ import annotations

import logging

from services.stream.local_state import MARKER, UNKNOWN, keep_or_forget

IDS = {"mm-companies-changelog": "5d7c1c0e-0000-4000-8000-000000000001"}
RECREATED = {"mm-companies-changelog": "5d7c1c0e-0000-4000-8000-000000000002"}


def filled(datadir):
    """A data directory as Faust leaves it: one database directory per table partition."""
    (datadir / "v1" / "tables" / "companies-0.db").mkdir(parents=True)
    (datadir / "v1" / "tables" / "companies-0.db" / "CURRENT").write_text("MANIFEST-000001\n")
    return datadir


def test_the_same_topics_keep_the_tables(tmp_path):
    datadir = tmp_path / "mm-6066"
    assert keep_or_forget(datadir, IDS)  # first start: nothing there yet
    filled(datadir)
    assert keep_or_forget(datadir, IDS)
    assert (datadir / "v1" / "tables" / "companies-0.db" / "CURRENT").is_file()


def test_recreated_topics_drop_the_tables_and_say_so(tmp_path, caplog):
    datadir = tmp_path / "mm-6066"
    keep_or_forget(datadir, IDS)
    filled(datadir)
    with caplog.at_level(logging.WARNING, logger="matchmaker.worker"):
        assert not keep_or_forget(datadir, RECREATED)
    assert not (datadir / "v1").exists() and "other changelog topics" in caplog.text
    assert keep_or_forget(filled(datadir), RECREATED), "the new ids were noted"


def test_tables_of_unknown_origin_are_dropped(tmp_path):
    assert not keep_or_forget(filled(tmp_path / "mm-6066"), IDS)
    assert (tmp_path / "mm-6066" / MARKER).is_file()


def test_a_broker_without_topic_ids_keeps_everything_and_notes_nothing(tmp_path):
    datadir = filled(tmp_path / "mm-6066")
    assert keep_or_forget(datadir, {"mm-companies-changelog": UNKNOWN})
    assert (datadir / "v1").is_dir() and not (datadir / MARKER).exists()
