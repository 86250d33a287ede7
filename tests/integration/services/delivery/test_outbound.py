"""Outbound safety on the real broker: `matchmaker subscribe` refuses a webhook on an internal address,
and a notifier finding its webhook's host now resolves to one dead-letters the notification with the
reason instead of sending it.

The module's namespace allows loopback (the development setting, as every delivery test); `strict`
settings are the same without it: what production runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.cli.processes import settings_env
from services.settings import Settings
from tests.support import PROJECT_ROOT
from tests.support.notifier import Events, NotifierProcess, publish_sealed, read_topic, wait_notifier_drained
from tests.support.waiting import wait_until
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.integration

SECRET = "s3cret-for-tests-0123456789"


def strict(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update={"notify_allow_loopback_http": False})}
    )


@pytest.fixture
def hook():
    receiver = Receiver()
    yield receiver
    receiver.close()


def loopback_url(hook: Receiver) -> str:
    """https to a host name resolving to 127.0.0.1: allowed only with the development setting."""
    return f"https://localhost:{hook.server.server_address[1]}/hook"


def test_subscribe_refuses_a_webhook_resolving_to_loopback(settings, hook):
    result = subprocess.run(
        [
            *(sys.executable, "-m", "services.cli", "subscribe"),
            *("--company", "co-ssrf", "--url", loopback_url(hook)),
        ],
        env=settings_env(strict(settings)),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("matchmaker: webhook host localhost resolves to "), result.stderr
    assert "a loopback address: only public addresses are allowed" in result.stderr
    assert "Traceback" not in result.stderr
    published = read_topic(settings, settings.delivery.topic_subscriptions)
    assert not [s for s in published if s["company_id"] == "co-ssrf"]


def test_a_webhook_now_resolving_to_loopback_is_dead_lettered_not_delivered(settings, hook):
    notifier = NotifierProcess(strict(settings), "notifier-strict")
    events = Events(settings)
    try:
        # subscribed while loopback was allowed; the notifier, without the setting, must refuse it
        publish_sealed(settings, "co-internal", loopback_url(hook), SECRET)
        wait_notifier_drained(settings, alive=lambda: notifier.alive)
        lost = events.match("co-internal", "ch-a", 0.9)

        def letters():
            records = read_topic(settings, settings.delivery.topic_notification_dead_letters)
            return [r for r in records if r["notification_id"] == lost.match_id]

        assert wait_until(letters, 60, interval=0.5), f"no dead letter; see {notifier.log}"
        (letter,) = letters()
        assert letter["company_id"] == "co-internal" and letter["match_ids"] == [lost.match_id]
        assert letter["attempts"] == 1  # refused at once, not retried
        assert "webhook host localhost resolves to " in letter["last_error"]
        assert "a loopback address: only public addresses are allowed" in letter["last_error"]
        assert hook.requests == []
        refused = [m for m in notifier.metrics().splitlines() if m.startswith("matchmaker_notification_attempts")]
        assert 'matchmaker_notification_attempts_total{outcome="refused"} 1.0' in refused, refused
    finally:
        events.close()
        notifier.stop()
