"""The local broker's configuration, as written before it starts: secure unless told otherwise."""

from __future__ import annotations

import stat

from services.kafka.local import LocalBroker
from services.settings import Settings


def properties(settings: Settings) -> dict[str, str]:
    broker = LocalBroker(settings)
    broker.dir.mkdir(parents=True)
    path = broker._config()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the broker's own SCRAM password
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_clients_get_sasl_ssl_only_and_nothing_is_allowed_without_an_acl(tmp_path):
    config = properties(Settings(home=tmp_path, kafka_port=19990))
    assert config["listeners"] == "SASL_SSL://127.0.0.1:19990,CONTROLLER://127.0.0.1:19991"
    assert config["advertised.listeners"] == "SASL_SSL://127.0.0.1:19990"
    assert config["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert config["allow.everyone.if.no.acl.found"] == "false"
    assert config["authorizer.class.name"].endswith("StandardAuthorizer")
    assert config["super.users"] == "User:operator;User:broker"
    assert config["listener.name.controller.ssl.client.auth"] == "required"
    assert config["auto.create.topics.enable"] == "false"
    assert "PLAINTEXT://" not in config["listeners"]


def test_the_debugging_listener_is_opt_in_and_still_authenticated(tmp_path):
    config = properties(Settings(home=tmp_path, kafka_port=19990, kafka_debug_listener=True))
    assert config["listeners"].endswith(",DEBUG://127.0.0.1:19992")
    assert config["advertised.listeners"].endswith(",DEBUG://127.0.0.1:19992")
    assert "DEBUG:SASL_PLAINTEXT" in config["listener.security.protocol.map"]
