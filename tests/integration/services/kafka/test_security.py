"""The attack suite: outside parties against the real, secured broker (SASL_SSL, SCRAM, ACLs).

Each test is one attack from the README's threat model; the closing note's table lists them with
what is expected and what was observed. Webhook forgery and SSRF are in tests of the delivery side.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAuthorizationFailedError

from schemas import DeadLetter
from services.kafka import clients
from services.kafka.publisher import Publisher
from services.kafka.reader import read_topic
from services.kafka.results import read_matches
from services.kafka.tls import ensure_tls
from services.settings import Settings
from tests.support import kcat
from tests.support.factories import make_challenge, make_company
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

BUSES = "Electric buses and charging depots for public transport: pilots of fleet electrification in the city."


@pytest.fixture(scope="module")
def granted(namespace: Settings, tmp_path_factory) -> dict[str, Path]:
    """Client configurations (JSON) of Helsinki's and Espoo's platforms, as `access grant --json` prints them."""
    folder = tmp_path_factory.mktemp("access")
    return {city: kcat.grant(namespace, folder, "--city", city, as_json=True) for city in ("Helsinki", "Espoo")}


def config_of(path: Path, **changes) -> dict:
    return {**json.loads(path.read_text()), **changes}


def client_options(config: dict) -> dict:
    """kafka-python keyword arguments from a granted configuration (the JSON's own names)."""
    return {k: v for k, v in config.items() if not k.endswith("_topic") and v is not None}


def can_connect(**options) -> bool:
    """True when a client authenticates: its metadata request is answered (even if only to say "not
    authorised" for the topic asked about); False when the connection or the authentication fails."""
    try:
        producer = KafkaProducer(request_timeout_ms=5000, max_block_ms=5000, bootstrap_timeout_ms=8000, **options)
    except (KafkaError, ssl.SSLError, OSError):
        return False
    try:
        producer.partitions_for("any-topic")
        return True
    except TopicAuthorizationFailedError:
        return True
    except KafkaError:
        return False
    finally:
        producer.close(timeout=1)


def publish_as(config: dict, topic: str, key: str, value: bytes) -> Exception | None:
    """Send one message with the principal of `config`; the error it got, or None when the broker took it."""
    producer = KafkaProducer(**client_options(config), acks="all", max_block_ms=10_000, request_timeout_ms=10_000)
    try:
        producer.send(topic, key=key.encode(), value=value).get(timeout=15)
        return None
    except KafkaError as error:
        return error
    finally:
        producer.close(timeout=2)


def read_as(config: dict, topic: str) -> int:
    """How many records of `topic` the principal of `config` can read from the beginning (in 10 s)."""
    consumer = KafkaConsumer(**client_options(config), group_id=None, auto_offset_reset="earliest")
    try:
        consumer.subscribe([topic])  # no group: kafka-python assigns itself the topic's partitions
        deadline, count = time.monotonic() + 10, 0
        while time.monotonic() < deadline and not count:
            count += sum(len(batch) for batch in consumer.poll(timeout_ms=500).values())
        return count
    except KafkaError:
        return 0
    finally:
        consumer.close()


# -- authentication -------------------------------------------------------------------------------


def test_an_anonymous_client_is_refused(namespace: Settings):
    ca = str(clients.ca_file(namespace))
    assert not can_connect(bootstrap_servers=namespace.bootstrap_servers)  # plaintext on the TLS port
    assert not can_connect(bootstrap_servers=namespace.bootstrap_servers, security_protocol="SSL", ssl_cafile=ca)
    # and there is no other listener: the plaintext debugging one is opt-in
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", namespace.debug_port)) != 0


def test_a_wrong_password_is_refused(granted):
    config = config_of(granted["Helsinki"])
    assert can_connect(**client_options(config))
    assert not can_connect(**client_options({**config, "sasl_plain_password": "not-" + config["sasl_plain_password"]}))


def test_a_client_that_does_not_trust_the_ca_is_refused(granted, tmp_path):
    stranger = ensure_tls(tmp_path / "another-ca").ca_cert  # a CA of its own, not the cluster's
    assert not can_connect(**client_options(config_of(granted["Helsinki"], ssl_cafile=str(stranger))))


def test_the_controller_listener_wants_the_brokers_certificate(namespace: Settings):
    context = ssl.create_default_context(cafile=str(clients.ca_file(namespace)))
    with socket.create_connection(("127.0.0.1", namespace.controller_port), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"\x00\x00\x00\x00")  # TLS 1.3 reports the missing certificate on first use
                if not tls.recv(1):
                    raise ConnectionError("closed by the controller")


def test_a_revoked_credential_is_refused(namespace: Settings, tmp_path):
    oulu = config_of(kcat.grant(namespace, tmp_path, "--city", "Oulu", as_json=True))
    assert can_connect(**client_options(oulu))
    revoke = kcat.run_cli(namespace, "access", "revoke", "--city", "Oulu")
    assert revoke.returncode == 0, revoke.stderr
    assert wait_until(lambda: not can_connect(**client_options(oulu)), timeout=20)


# -- authorisation --------------------------------------------------------------------------------


def test_a_city_may_publish_to_its_own_topic_only(namespace: Settings, granted):
    helsinki = config_of(granted["Helsinki"])
    own = make_challenge("ch-hel-own", city="Helsinki").model_dump_json().encode()
    assert publish_as(helsinki, helsinki["challenges_topic"], "ch-hel-own", own) is None
    espoo_topic = config_of(granted["Espoo"])["challenges_topic"]
    espoo = make_challenge("ch-esp-1", city="Espoo").model_dump_json().encode()
    for topic in (espoo_topic, namespace.topic_challenges, namespace.topic_companies):
        assert isinstance(publish_as(helsinki, topic, "ch-esp-1", espoo), TopicAuthorizationFailedError), topic


def test_kcat_publishes_over_sasl_ssl_with_the_printed_properties(namespace: Settings, tmp_path):
    if not kcat.available():
        pytest.skip("kcat is not installed (Debian/Ubuntu: apt-get install -y kcat)")
    properties = kcat.grant(namespace, tmp_path, "--city", "Tampere")
    text = properties.read_text()
    assert "security.protocol=SASL_SSL" in text and "sasl.mechanisms=SCRAM-SHA-512" in text
    challenge = make_challenge("ch-tre-kcat", city="Tampere").model_dump_json()
    assert kcat.delivered(kcat.publish(properties, namespace.city_topic("Tampere"), [f"ch-tre-kcat|{challenge}"]))
    refused = kcat.publish(properties, namespace.city_topic("Turku"), [f"ch-tre-kcat|{challenge}"])
    assert not kcat.delivered(refused) and "authorization" in refused.stderr.lower()


# -- tenant rules in the worker -------------------------------------------------------------------


def test_a_city_cannot_pass_off_or_take_over_another_citys_challenge(namespace: Settings, granted, worker):
    """On its own topic Helsinki may publish only Helsinki's challenges, and not reuse an Espoo id; both
    attempts become dead letters with the reason, and neither is ever matched."""
    with Publisher.from_settings(namespace) as operator:
        operator.publish_company(make_company("co-bus", tags=["electric buses", "mobility"], description=BUSES))
        operator.publish_challenge(
            make_challenge("ch-esp-bus", city="Espoo", tags=["electric buses", "mobility"], description=BUSES)
        )
    worker.drain()
    before = {r.match_id for r in read_matches(namespace)}
    helsinki = Publisher.from_config(json.loads(granted["Helsinki"].read_text()))
    with helsinki:
        # an Espoo challenge on Helsinki's topic
        helsinki.publish_challenge(
            make_challenge("ch-fake-esp", city="Espoo", tags=["mobility"], description="Electric buses.")
        )
        # Espoo's id, claimed as Helsinki's, with a higher version
        helsinki.publish_challenge(
            make_challenge("ch-esp-bus", city="Helsinki", version=99, tags=["mobility"], description="Buses.")
        )
        helsinki.send_raw(helsinki.challenges_topic, b"ch-esp-bus", None)  # a tombstone of Espoo's challenge
    worker.drain()

    letters = [
        DeadLetter.model_validate_json(r.value)
        for r in read_topic(namespace, namespace.topic_dead_letters, client_id="t")
    ]
    by_category = {letter.category: letter for letter in letters}
    assert "Helsinki carries a challenge of Espoo" in by_category["city-mismatch"].reason
    assert "belongs to Espoo" in by_category["foreign-challenge"].reason
    assert by_category["city-tombstone"].key == "ch-esp-bus"
    assert sum(letter.category == "foreign-challenge" for letter in letters) == 1  # one per event, not per shard
    results = list(read_matches(namespace))
    assert not [r for r in results if r.challenge_id == "ch-fake-esp"]
    espoo = [r for r in results if r.challenge_id == "ch-esp-bus"]
    assert espoo and {r.challenge_version for r in espoo} == {1}  # Espoo's version stands, not Helsinki's 99
    assert {r.match_id for r in results} == before


def test_a_city_cannot_read_or_write_what_is_not_its_own(namespace: Settings, granted):
    """Runs last: the worker test above filled `matches` and `dead-letters`; the operator can read every
    topic checked here, the city none of them."""
    helsinki = config_of(granted["Helsinki"])
    d = namespace.delivery
    with Publisher.from_settings(namespace) as operator:  # something to read in the delivery control topics
        operator.send_raw(d.topic_subscriptions, b"co-x", b'{"probe": true}')
        operator.send_raw(d.topic_inbox_tokens, b"co-x", b'{"probe": true}')
    private = [namespace.topic_matches, d.topic_subscriptions, d.topic_inbox_tokens, namespace.topic_dead_letters]
    operator_config = {
        **client_options(helsinki),
        "sasl_plain_username": "operator",
        "sasl_plain_password": clients.credential(namespace).password,  # type: ignore[union-attr]
    }
    for topic in [*private, helsinki["challenges_topic"]]:  # not even its own topic: it publishes, never reads
        assert read_as(operator_config, topic) > 0, topic
        assert read_as(helsinki, topic) == 0, topic
    for topic in [*private, namespace.shard_input_topic, f"{namespace.app_id}-companies-changelog"]:
        assert isinstance(publish_as(helsinki, topic, "x", b"{}"), TopicAuthorizationFailedError), topic
