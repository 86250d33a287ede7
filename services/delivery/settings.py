"""Settings of the delivery side (notifier, inbox): the project's Settings plus MATCHMAKER_NOTIFY_* etc.

Kept apart from services/settings.py so the matching worker's configuration stays as it is; every
field is still an environment variable with the prefix `MATCHMAKER_`.
"""

from __future__ import annotations

from pydantic import Field

from services.settings import Settings


class NotifierSettings(Settings):
    # -- topics -------------------------------------------------------------------------------
    topic_subscriptions: str = Field(default="subscriptions", description="Compacted, key company_id, null = unsubscribe.")
    topic_inbox_tokens: str = Field(default="inbox-tokens", description="Compacted, key company_id, value = token hash.")
    topic_notification_dead_letters: str = Field(
        default="notification-dead-letters", description="Notifications given up after the configured attempts."
    )

    # -- delivery -----------------------------------------------------------------------------
    notify_attempts: int = Field(default=6, ge=1, description="HTTP attempts per notification before dead-lettering.")
    notify_base_delay: float = Field(default=2.0, gt=0, description="Backoff before retry n is base * 2**(n-1) seconds.")
    notify_max_delay: float = Field(default=300.0, gt=0, description="Upper bound of one backoff delay.")
    notify_timeout: float = Field(default=10.0, gt=0, description="Seconds for one webhook request (connect + response).")
    digest_period: float = Field(default=86400.0, gt=0, description="Seconds between two digests of a company (daily).")
    digest_offset: float = Field(
        default=0.0, ge=0, description="Digests go out when (unix time - offset) is a multiple of the period (0 = 00:00 UTC)."
    )
    notifier_sweep_interval: float = Field(
        default=2.0, gt=0, description="Seconds between scans that (re)start pending deliveries after recovery."
    )
    notifier_web_port: int = Field(default=6067, description="Faust web port of a notifier process (/metrics).")

    # -- inbox --------------------------------------------------------------------------------
    inbox_host: str = Field(default="127.0.0.1", description="Interface of the inbox HTTP API.")
    inbox_port: int = Field(default=8081, description="Port of the inbox HTTP API (the ingest API has 8080).")
    inbox_max_page: int = Field(default=100, ge=1, description="Largest `limit` of one inbox page.")

    @property
    def notifier_app_id(self) -> str:
        return f"{self.app_id}-notifier"

    @property
    def notifier_control_topic(self) -> str:
        return f"{self.notifier_app_id}-control"


def notifier_settings(base: Settings | None = None, **overrides: object) -> NotifierSettings:
    """NotifierSettings from the environment, or from a Settings object (tests), with overrides."""
    if base is None:
        return NotifierSettings(**overrides)  # type: ignore[arg-type]
    fields = {k: v for k, v in base.model_dump().items() if k in NotifierSettings.model_fields}
    fields.update(overrides)
    servers = fields.pop("kafka_bootstrap_servers", None)
    if servers:
        fields["KAFKA_BOOTSTRAP_SERVERS"] = servers
    return NotifierSettings(**fields)  # type: ignore[arg-type]
