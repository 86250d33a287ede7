"""The one place where Kafka clients are built from `Settings`.

Every kafka-python producer, consumer and admin client of the project, and every Faust app, gets its
connection from `_connection` / `faust_broker_options` here, so pointing the project at another
cluster, its TLS trust and SASL credential included, is a change in one function. Callers pass the
options that are theirs (client_id, linger, timeouts, group) as keyword arguments.

    producer = clients.producer(settings, client_id="matchmaker-api", linger_ms=0)
    consumer = clients.consumer(settings, client_id="matchmaker-inbox")
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from services.kafka import credentials
from services.kafka.tls import TlsFiles
from services.settings import Settings

if TYPE_CHECKING:
    import faust

# Every producer waits for all in-sync replicas unless its caller says otherwise.
PRODUCER_DEFAULTS: dict[str, Any] = {"acks": "all"}
# Consumers read without a consumer group and commit nothing unless their caller joins a group.
CONSUMER_DEFAULTS: dict[str, Any] = {"group_id": None, "enable_auto_commit": False}


@dataclass(frozen=True)
class Credential:
    """Who this process is on the cluster and how it proves it."""

    username: str
    password: str


def credential(settings: Settings) -> Credential | None:
    """The SASL credential of this process, None when the protocol has no SASL.

    The user is `kafka_username`, else the operator (the CLI; services call `Settings.as_principal`
    first). The password is `kafka_password`, else the file `kafka_password_file`, else, on the local
    cluster, the store `matchmaker kafka up` wrote under MATCHMAKER_HOME.
    """
    if not settings.kafka_security_protocol.startswith("SASL"):
        return None
    username = settings.kafka_username or "operator"
    if settings.kafka_password is not None:
        return Credential(username, settings.kafka_password.get_secret_value())
    if settings.kafka_password_file is not None:
        return Credential(username, settings.kafka_password_file.read_text().strip())
    return Credential(username, credentials.require(settings.home, username))


def ca_file(settings: Settings) -> Path | None:
    """The CA to trust: configured, else the local cluster's own, else None (the system's trust store)."""
    if settings.kafka_ca_file is not None:
        return settings.kafka_ca_file
    if settings.uses_local_broker:
        return TlsFiles.under(tls_dir(settings.home)).ca_cert
    return None


def tls_dir(home: Path) -> Path:
    return home / "security" / "tls"


def uses_tls(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SASL_SSL", "SSL")


def _connection(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments that say where the cluster is and how to connect to it."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if uses_tls(settings):
        cafile = ca_file(settings)
        options["ssl_cafile"] = str(cafile) if cafile is not None else None
        options["ssl_check_hostname"] = True
    found = credential(settings)
    if found is not None:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = found.username
        options["sasl_plain_password"] = found.password
    return options


def java_properties(settings: Settings) -> str:
    """The same connection for Kafka's Java tools (`--command-config FILE`): keep the file private."""
    lines = [f"security.protocol={settings.kafka_security_protocol}"]
    cafile = ca_file(settings) if uses_tls(settings) else None
    if cafile is not None:
        lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={cafile}"]
    found = credential(settings)
    if found is not None:
        module = (
            "org.apache.kafka.common.security.plain.PlainLoginModule"
            if settings.kafka_sasl_mechanism == "PLAIN"
            else "org.apache.kafka.common.security.scram.ScramLoginModule"
        )
        lines += [
            f"sasl.mechanism={settings.kafka_sasl_mechanism}",
            f'sasl.jaas.config={module} required username="{found.username}" password="{found.password}";',
        ]
    return "\n".join(lines) + "\n"


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of asyncio clients (aiokafka under Faust): verifies the broker against the CA."""
    if not uses_tls(settings):
        return None
    cafile = ca_file(settings)
    return ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)


def producer(settings: Settings, *, client_id: str, **overrides: Any) -> KafkaProducer:
    """A KafkaProducer (acks=all unless overridden)."""
    return KafkaProducer(**_connection(settings), **{**PRODUCER_DEFAULTS, "client_id": client_id, **overrides})


def consumer(settings: Settings, *topics: str, client_id: str, **overrides: Any) -> KafkaConsumer:
    """A KafkaConsumer, subscribed to `topics` when given (that needs a group_id); no group by default."""
    return KafkaConsumer(*topics, **_connection(settings), **{**CONSUMER_DEFAULTS, "client_id": client_id, **overrides})


def admin(settings: Settings, *, client_id: str, **overrides: Any) -> KafkaAdminClient:
    return KafkaAdminClient(**_connection(settings), **{"client_id": client_id, **overrides})


def faust_broker_options(settings: Settings) -> dict[str, Any]:
    """faust.App keyword arguments for the cluster: the broker URL list and the credential."""
    import faust

    options: dict[str, Any] = {
        "broker": [f"kafka://{server.strip()}" for server in settings.bootstrap_servers.split(",")]
    }
    context = ssl_context(settings)
    found = credential(settings)
    if found is not None:
        options["broker_credentials"] = faust.SASLCredentials(
            username=found.username,
            password=found.password,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    elif context is not None:
        options["broker_credentials"] = faust.SSLCredentials(context)
    return options


def faust_app(settings: Settings, app_id: str, **options: Any) -> faust.App:
    """A Faust app on the configured cluster; `options` are the app's own settings (see faust_app.make_app)."""
    import faust  # imported here: heavy, and only stream processes need it

    return faust.App(app_id, **faust_broker_options(settings), **options)
