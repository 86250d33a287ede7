"""Configuration: every setting is an environment variable with the prefix `MATCHMAKER_`.

The one exception is `KAFKA_BOOTSTRAP_SERVERS` (also accepted as `MATCHMAKER_KAFKA_BOOTSTRAP_SERVERS`):
the conventional name for pointing a Kafka client at a cluster. When it is unset the project runs
its own local broker on 127.0.0.1.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    home: Path = Field(default_factory=default_home, description="Jars, broker data, logs, worker data.")

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
    shards: int = Field(
        default=4, ge=1, description="Partitions of the worker's internal topics = most worker processes that share work."
    )
    replication_factor: int = Field(default=1, ge=1, description="Replication of topics the project creates.")

    # -- Worker ---------------------------------------------------------------------------------
    app_id: str = Field(default="matchmaker", description="Faust app id: consumer group and internal topic prefix.")
    model: str = Field(default="all-MiniLM-L6-v2", description="sentence-transformers model name or local path.")
    top_k: int = Field(default=10, ge=1)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    embed_batch_size: int = Field(default=32, ge=1, description="Most events embedded in one model call.")
    embed_batch_window: float = Field(
        default=0.05, gt=0, description="Seconds to wait to fill an embedding batch (the floor of latency at low load)."
    )
    producer_linger: float = Field(
        default=0.005, ge=0, description="Seconds a stream producer waits to fill a batch (latency per hop vs requests)."
    )
    torch_threads: int | None = Field(default=None, ge=1, description="torch CPU threads; default: torch's choice.")
    worker_web_port: int = Field(default=6066, description="Faust's web server port of this worker process.")
    worker_web_host: str = Field(default="127.0.0.1", description="Interface of the worker's web server (0.0.0.0 in pods).")
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once", description="Faust's guarantee; see README (Architecture) for why at-least-once."
    )
    session_timeout: float = Field(default=10.0, description="Seconds before the group drops a silent worker.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as plain text (terminals) or one JSON object each (log collectors)."
    )

    @property
    def uses_local_broker(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"127.0.0.1:{self.kafka_port}"

    @property
    def controller_port(self) -> int:
        return self.kafka_controller_port or self.kafka_port + 1

    @property
    def shard_input_topic(self) -> str:
        return f"{self.app_id}-shard-input"

    @property
    def partials_topic(self) -> str:
        return f"{self.app_id}-partials"

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables, to hand them to a child process."""
        env = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            key = "KAFKA_BOOTSTRAP_SERVERS" if name == "kafka_bootstrap_servers" else f"MATCHMAKER_{name.upper()}"
            env[key] = str(value)
        return env

    @property
    def sample_data_dir(self) -> Path:
        """The packaged sample data set (`matchmaker demo`), in a checkout and in an installed wheel alike."""
        import sample_data

        return sample_data.DIR

