"""The local cluster's shape without a broker: node ports, the bootstrap list, replication, the quorum."""

from __future__ import annotations

from services.kafka.local import LocalBroker, local_nodes
from services.kafka.topics import topic_spec
from services.settings import Settings, cluster_shape_file


def config_of(broker: LocalBroker, index: int) -> dict[str, str]:
    node = broker.nodes[index]
    node.dir.mkdir(parents=True, exist_ok=True)
    text = broker._config(node).read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_three_nodes_ten_ports_apart_and_clients_bootstrap_from_all(tmp_path):
    settings = Settings(home=tmp_path, kafka_port=19800, kafka_brokers=3)
    assert [(n.id, n.port, n.controller_port) for n in local_nodes(settings)] == [
        (1, 19800, 19801),
        (2, 19810, 19811),
        (3, 19820, 19821),
    ]
    assert settings.bootstrap_servers == "127.0.0.1:19800,127.0.0.1:19810,127.0.0.1:19820"


def test_every_node_votes_and_internal_topics_survive_a_lost_node(tmp_path):
    broker = LocalBroker(Settings(home=tmp_path, kafka_port=19800, kafka_brokers=3))
    second = config_of(broker, 1)
    assert second["node.id"] == "2"
    assert second["controller.quorum.voters"] == "1@127.0.0.1:19801,2@127.0.0.1:19811,3@127.0.0.1:19821"
    assert second["advertised.listeners"] == "SASL_SSL://127.0.0.1:19810"
    assert (second["offsets.topic.replication.factor"], second["min.insync.replicas"]) == ("3", "2")
    assert second["allow.everyone.if.no.acl.found"] == "false"  # secured exactly like the single broker


def test_the_shape_kafka_up_recorded_is_what_later_commands_use(tmp_path):
    assert Settings(home=tmp_path, kafka_port=19800).kafka_brokers == 1
    cluster_shape_file(tmp_path, 19800).parent.mkdir(parents=True)
    cluster_shape_file(tmp_path, 19800).write_text("3\n")
    assert Settings(home=tmp_path, kafka_port=19800).bootstrap_servers.count("127.0.0.1:") == 3
    assert Settings(home=tmp_path, kafka_port=19800, kafka_brokers=1).kafka_brokers == 1  # explicit wins


def test_replicated_topics_want_two_in_sync_replicas(tmp_path):
    three = topic_spec(Settings(home=tmp_path, replication_factor=3), 4, compact=True)
    assert three["replication_factor"] == 3
    assert three["configs"] == {"cleanup.policy": "compact", "min.insync.replicas": "2"}
    assert topic_spec(Settings(home=tmp_path, replication_factor=1), 4)["configs"] == {}
