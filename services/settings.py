"""Configuration: one `Settings` object; every setting is an environment variable.

The top level (prefix `MATCHMAKER_`) is Kafka, topics and the matching worker. Each other service has
its own section, a BaseSettings of its own with its own prefix, so the variable names stay short and
stable: `settings.api` (MATCHMAKER_API_*), `settings.monitor` (MATCHMAKER_MONITOR_*) and
`settings.delivery` (the notifier and inbox: MATCHMAKER_NOTIFY_*, MATCHMAKER_INBOX_*, ...).

The one exception is `KAFKA_BOOTSTRAP_SERVERS` (also accepted as `MATCHMAKER_KAFKA_BOOTSTRAP_SERVERS`):
the conventional name for pointing a Kafka client at a cluster. When it is unset the project runs
its own local broker on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

StoreKind = Literal["rocksdb", "memory"]


def running_from_checkout() -> bool:
    """True when this code runs from a source checkout (editable install, `python -m` in the repository),
    False when it is an installed wheel (PROJECT_ROOT is then site-packages)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file()


def default_home() -> Path:
    """MATCHMAKER_HOME when unset: `.matchmaker` in the checkout, else a per-user data directory.

    An installed wheel must not write into site-packages, and a home that followed the current directory
    would lose the broker's pid file and the cached jars whenever the user changed directory.
    """
    if running_from_checkout():
        return PROJECT_ROOT / ".matchmaker"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "matchmaker"


def cluster_shape_file(home: Path, port: int) -> Path:
    """Where `matchmaker kafka up --brokers N` records N for the local cluster on `port`."""
    return home / "kafka" / f"brokers-{port}"


class ApiSettings(BaseSettings):
    """The ingest API (`matchmaker api`, `api-token`): prefix MATCHMAKER_API_."""

    model_config = SettingsConfigDict(env_prefix="MATCHMAKER_API_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Interface to listen on (0.0.0.0 for all).")
    port: int = Field(default=8080, ge=1, le=65535)
    max_body_bytes: int = Field(default=65_536, ge=1, description="Larger request bodies get 413.")
    tokens_file: Path | None = Field(default=None, description="Default <MATCHMAKER_HOME>/api-tokens.json.")
    idempotency_file: Path | None = Field(
        default=None, description="Default <MATCHMAKER_HOME>/api-idempotency.sqlite3."
    )
    idempotency_ttl_seconds: float = Field(
        default=86_400.0, gt=0, description="How long Idempotency-Key answers are kept."
    )
    publish_timeout: float = Field(default=15.0, gt=0, description="Seconds to wait for the broker's acknowledgement.")
    startup_timeout: float = Field(default=60.0, gt=0, description="Seconds to wait for the version view at startup.")

    def tokens_path(self, home: Path) -> Path:
        return self.tokens_file or home / "api-tokens.json"

    def idempotency_path(self, home: Path) -> Path:
        return self.idempotency_file or home / "api-idempotency.sqlite3"


class MonitorSettings(BaseSettings):
    """The monitor (`matchmaker monitor`): prefix MATCHMAKER_MONITOR_."""

    model_config = SettingsConfigDict(env_prefix="MATCHMAKER_MONITOR_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="Interface to listen on (0.0.0.0 in a container).")
    port: int = Field(default=9308, ge=1, le=65535)
    interval: float = Field(default=10.0, gt=0, description="Seconds between two samples of the groups' offsets.")
    window: int = Field(default=10, ge=2, description="Samples in the sliding window the status rules look at.")
    history_seconds: float = Field(default=3600.0, gt=0, description="How much lag history the page charts.")
    groups: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="More consumer groups to watch, comma-separated (worker and notifier always)."
    )
    latest: int = Field(default=8, ge=0, description="How many latest matches and dead letters the page lists.")
    worker_metrics_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated worker /metrics URLs whose pipeline counters the page sums."
    )
    ready_after_failures: int = Field(
        default=3, ge=1, description="Consecutive failed samples before /readyz says 503."
    )

    @field_validator("groups", "worker_metrics_urls", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def history_size(self) -> int:
        return max(2, int(self.history_seconds / self.interval) + 1)


class DeliverySettings(BaseSettings):
    """The delivery side (notifier, inbox, subscriptions, inbox tokens): prefix MATCHMAKER_, as before."""

    model_config = SettingsConfigDict(env_prefix="MATCHMAKER_", extra="ignore")

    # -- topics -------------------------------------------------------------------------------
    topic_subscriptions: str = Field(
        default="subscriptions", description="Compacted, key company_id, null = unsubscribe."
    )
    topic_inbox_tokens: str = Field(
        default="inbox-tokens", description="Compacted, key company_id, value = token hash."
    )
    topic_notification_dead_letters: str = Field(
        default="notification-dead-letters", description="Notifications given up after the configured attempts."
    )

    # -- notifier -----------------------------------------------------------------------------
    notify_attempts: int = Field(default=6, ge=1, description="HTTP attempts per notification before dead-lettering.")
    notify_base_delay: float = Field(
        default=2.0, gt=0, description="Backoff before retry n is base * 2**(n-1) seconds."
    )
    notify_max_delay: float = Field(default=300.0, gt=0, description="Upper bound of one backoff delay.")
    notify_timeout: float = Field(
        default=10.0, gt=0, description="Seconds for one webhook request (connect + response)."
    )
    notify_allow_loopback_http: bool = Field(
        default=False,
        description="Development only: webhooks may go to loopback hosts, over plain http too. Otherwise "
        "only https to public addresses (services/delivery/outbound.py).",
    )
    digest_period: float = Field(default=86400.0, gt=0, description="Seconds between two digests of a company (daily).")
    digest_offset: float = Field(
        default=0.0,
        ge=0,
        description="Digests go out when (unix time - offset) is a multiple of the period (0 = 00:00 UTC).",
    )
    notifier_sweep_interval: float = Field(
        default=2.0, gt=0, description="Seconds between scans that (re)start pending deliveries after recovery."
    )
    notifier_web_port: int = Field(default=6067, description="Faust web port of a notifier process (/metrics).")
    notifier_web_host: str = Field(
        default="127.0.0.1", description="Interface of the notifier's web server (another needs the ops token)."
    )

    # -- inbox --------------------------------------------------------------------------------
    inbox_host: str = Field(default="127.0.0.1", description="Interface of the inbox HTTP API.")
    inbox_port: int = Field(default=8081, description="Port of the inbox HTTP API (the ingest API has 8080).")
    inbox_max_page: int = Field(default=100, ge=1, description="Largest `limit` of one inbox page.")
    inbox_max_per_company: int = Field(
        default=500, ge=1, description="Newest matches the inbox keeps per company (bounds its memory)."
    )
    inbox_retention_days: float = Field(
        default=90.0, gt=0, description="Matches produced longer ago than this leave the inbox."
    )

    # -- subscriptions' secrets ---------------------------------------------------------------
    subscription_key_file: Path | None = Field(
        default=None,
        description="Key ring that seals webhook secrets on the subscriptions topic; "
        "default <MATCHMAKER_HOME>/security/subscriptions.key.",
    )

    def subscription_key_path(self, home: Path) -> Path:
        return self.subscription_key_file or home / "security" / "subscriptions.key"


SECTIONS = ("api", "monitor", "delivery")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHMAKER_", extra="ignore")

    # -- Kafka ----------------------------------------------------------------------------------
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS", "MATCHMAKER_KAFKA_BOOTSTRAP_SERVERS"),
        description="host:port[,host:port] of an existing cluster; unset = the project's local broker.",
    )
    kafka_port: int = Field(default=9092, description="Port of the local broker (loopback only).")
    kafka_controller_port: int | None = Field(default=None, description="KRaft controller port; default kafka_port+1.")
    kafka_brokers: int = Field(
        default=1, ge=1, le=5, description="Nodes of the local cluster (3: replicated; node i on kafka_port+10*(i-1))."
    )
    home: Path = Field(default_factory=default_home, description="Jars, broker data, logs, worker data.")

    # -- Kafka security: the client side, for the local cluster and an existing one alike ----------
    kafka_security_protocol: Literal["SASL_SSL", "SSL", "SASL_PLAINTEXT", "PLAINTEXT"] = Field(
        default="SASL_SSL", description="How clients connect; the local broker speaks SASL_SSL."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism of the client credential."
    )
    kafka_username: str | None = Field(
        default=None,
        description="SASL user; unset = this process's own principal (operator for the CLI, worker, notifier, ...).",
    )
    kafka_password: SecretStr | None = Field(default=None, description="SASL password (prefer the _FILE variant).")
    kafka_password_file: Path | None = Field(
        default=None, description="File holding the SASL password; unset on the local cluster = its own store."
    )
    kafka_ca_file: Path | None = Field(
        default=None,
        description="PEM CA the brokers' certificates chain to; unset = the local cluster's CA, or the system's.",
    )
    kafka_debug_listener: bool = Field(
        default=False,
        description="Local broker only: also listen SASL_PLAINTEXT (authenticated, not encrypted) on kafka_port+2.",
    )

    @model_validator(mode="after")
    def _local_cluster_shape(self) -> Settings:
        """Without MATCHMAKER_KAFKA_BROKERS, the shape `matchmaker kafka up --brokers N` recorded for this port,
        so every later command bootstraps from every node of that cluster."""
        if "kafka_brokers" not in self.model_fields_set and not self.kafka_bootstrap_servers:
            recorded = cluster_shape_file(self.home, self.kafka_port)
            if recorded.exists():
                self.kafka_brokers = int(recorded.read_text().strip() or 1)
        return self

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, home: Path) -> Path:
        """Child processes (workers) run in another directory: a relative or `~` home must mean the same there."""
        return home.expanduser().absolute()

    # -- Topics ---------------------------------------------------------------------------------
    topic_challenges: str = "challenges"
    topic_companies: str = "companies"
    topic_matches: str = "matches"
    topic_dead_letters: str = "dead-letters"
    partitions: int = Field(default=4, ge=1, description="Partitions of the topics the project creates.")
    city_partitions: int = Field(
        default=1, ge=1, description="Partitions of each city's own challenges topic (a city publishes few)."
    )
    shards: int = Field(
        default=4,
        ge=1,
        description="Partitions of the worker's internal topics = most worker processes that share work.",
    )
    replication_factor: int | None = Field(
        default=None,
        ge=1,
        description="Replication of topics the project creates; unset = 3 when the cluster has 3+ brokers, else 1.",
    )

    # -- Worker ---------------------------------------------------------------------------------
    app_id: str = Field(default="matchmaker", description="Faust app id: consumer group and internal topic prefix.")
    model: str = Field(default="all-MiniLM-L6-v2", description="sentence-transformers model name or local path.")
    top_k: int = Field(default=10, ge=1)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    embed_batch_size: int = Field(default=32, ge=1, description="Most events embedded in one model call.")
    embed_batch_window: float = Field(
        default=0.0,
        ge=0,
        description="0: adaptive batching (embed what is waiting, no wait); > 0: seconds to wait to fill a batch.",
    )
    producer_linger: float = Field(
        default=0.005,
        ge=0,
        description="Seconds a stream producer waits to fill a batch (latency per hop vs requests).",
    )
    torch_threads: int | None = Field(default=None, ge=1, description="torch CPU threads; default: torch's choice.")
    store: StoreKind = Field(
        default="rocksdb",
        description="Where the worker keeps its tables: rocksdb (on disk in <MATCHMAKER_HOME>/worker-data; a restart "
        "reads only the changelogs' new records) or memory (every start reads the changelogs from the beginning).",
    )
    worker_web_port: int = Field(default=6066, description="Faust's web server port of this worker process.")
    worker_web_host: str = Field(
        default="127.0.0.1", description="Interface of the worker's web server (0.0.0.0 in pods)."
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once", description="Faust's guarantee; see README (Architecture) for why at-least-once."
    )
    session_timeout: float = Field(default=10.0, description="Seconds before the group drops a silent worker.")
    stall_after: float = Field(
        default=30.0,
        gt=0,
        description="Seconds an assigned partition may be behind without progress before the worker recovers it.",
    )
    watchdog_interval: float = Field(
        default=5.0, gt=0, description="Seconds between two checks for stalled partitions."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as plain text (terminals) or one JSON object each (log collectors)."
    )

    # -- Operator surfaces (monitor, worker and notifier web servers): services/ops/access.py ----
    ops_token_file: Path | None = Field(
        default=None,
        description="Operator bearer token, needed off loopback; default <MATCHMAKER_HOME>/security/ops-token.",
    )

    @field_validator("ops_token_file")
    @classmethod
    def _absolute_token_file(cls, path: Path | None) -> Path | None:
        """Child processes run in another directory, as for `home`."""
        return None if path is None else path.expanduser().absolute()

    # -- Sections: each reads its own variables when the Settings object is made ----------------
    api: ApiSettings = Field(default_factory=ApiSettings, description="The ingest API (MATCHMAKER_API_*).")
    monitor: MonitorSettings = Field(default_factory=MonitorSettings, description="The monitor (MATCHMAKER_MONITOR_*).")
    delivery: DeliverySettings = Field(
        default_factory=DeliverySettings,
        description="Notifier and inbox (MATCHMAKER_NOTIFY_*, MATCHMAKER_INBOX_*, ...).",
    )

    @property
    def uses_local_broker(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        """The existing cluster's servers, or every node of the local one (losing any node changes nothing)."""
        if self.kafka_bootstrap_servers:
            return self.kafka_bootstrap_servers
        return ",".join(f"127.0.0.1:{self.kafka_port + 10 * i}" for i in range(self.kafka_brokers))

    @property
    def controller_port(self) -> int:
        return self.kafka_controller_port or self.kafka_port + 1

    @property
    def debug_port(self) -> int:
        return self.kafka_port + 2

    def as_principal(self, name: str) -> Settings:
        """These settings for a process that is `name` on the cluster, unless a user was configured explicitly."""
        if self.kafka_username is not None:
            return self
        return self.model_copy(update={"kafka_username": name})

    def city_topic(self, city: str) -> str:
        """Where one city's platform publishes its challenges (its principal may write there and nowhere else)."""
        return f"{self.topic_challenges}.{city.lower()}"

    @property
    def city_topics(self) -> dict[str, str]:
        """City name -> its challenges topic, for the six cities."""
        from schemas import City

        return {city.value: self.city_topic(city.value) for city in City}

    @property
    def challenge_topics(self) -> tuple[str, ...]:
        """Every topic that carries challenges: the trusted one (API, operator) and the six cities' own."""
        return (self.topic_challenges, *self.city_topics.values())

    @property
    def shard_input_topic(self) -> str:
        return f"{self.app_id}-shard-input"

    @property
    def partials_topic(self) -> str:
        return f"{self.app_id}-partials"

    @property
    def notifier_app_id(self) -> str:
        """The notifier's Faust app id and consumer group."""
        return f"{self.app_id}-notifier"

    @property
    def notifier_control_topic(self) -> str:
        return f"{self.notifier_app_id}-control"

    @property
    def ops_token_path(self) -> Path:
        """Where the operator token is read (and `matchmaker ops-token` writes it)."""
        return self.ops_token_file or self.home / "security" / "ops-token"

    def to_env(self) -> dict[str, str]:
        """These settings, sections included, as environment variables, to hand them to a child process."""
        env = _env("MATCHMAKER_", self, exclude=SECTIONS)
        servers = env.pop("MATCHMAKER_KAFKA_BOOTSTRAP_SERVERS", None)
        if servers is not None:
            env["KAFKA_BOOTSTRAP_SERVERS"] = servers
        for name in SECTIONS:
            section: BaseSettings = getattr(self, name)
            env.update(_env(section.model_config.get("env_prefix", ""), section))
        return env

    @property
    def sample_data_dir(self) -> Path:
        """The packaged sample data set (`matchmaker demo`), in a checkout and in an installed wheel alike."""
        import sample_data

        return sample_data.DIR


def _env(prefix: str, model: BaseSettings, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """One model's fields as PREFIX_NAME=value (None left out, lists as JSON, which the models read back)."""
    env = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in exclude or value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"{prefix}{name.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    return env
