"""Subscribing refuses a webhook the notifier would refuse to call, before anything reaches the broker."""

from __future__ import annotations

import socket

import pytest

import services.delivery.subscriptions as subscriptions
from schemas import Subscription
from services.cli.main import main
from services.delivery.subscriptions import check_webhook_url, publish_subscription
from services.errors import InvalidInputError, RefusedDestination
from services.settings import Settings

SECRET = "0123456789abcdef-secret"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Anything that would reach Kafka fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a refused subscription reached the broker")

    monkeypatch.setattr(subscriptions, "_send", forbidden)
    monkeypatch.setattr(subscriptions, "create_missing", forbidden)


def settings(allow_loopback: bool = False) -> Settings:
    base = Settings()
    return base.model_copy(
        update={"delivery": base.delivery.model_copy(update={"notify_allow_loopback_http": allow_loopback})}
    )


def test_publishing_a_subscription_to_an_internal_address_is_refused():
    subscription = Subscription(company_id="co-1", url="https://10.0.0.5/hook", sealed_secret="A" * 120)
    with pytest.raises(RefusedDestination, match="10.0.0.5 is a private address"):
        publish_subscription(settings(), subscription)


def test_loopback_http_is_refused_unless_the_development_setting_is_on():
    with pytest.raises(RefusedDestination, match="MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP"):
        check_webhook_url(settings(), "http://127.0.0.1:8000/hook")
    check_webhook_url(settings(allow_loopback=True), "http://127.0.0.1:8000/hook")


def test_a_host_name_is_judged_by_its_addresses():
    with pytest.raises(RefusedDestination, match="hooks.example resolves to 172.16.0.1"):
        check_webhook_url(settings(), "https://hooks.example/co-1", lambda host, port: ["172.16.0.1"])
    check_webhook_url(settings(), "https://hooks.example/co-1", lambda host, port: ["93.184.216.34"])


def test_a_host_that_does_not_resolve_is_refused_with_that_reason():
    def nowhere(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(InvalidInputError, match="webhook host nowhere.example does not resolve"):
        check_webhook_url(settings(), "https://user:pw@nowhere.example/hook", nowhere)


def test_the_subscribe_command_refuses_in_one_line(monkeypatch, capsys):
    monkeypatch.delenv("MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP", raising=False)
    code = main(["subscribe", "--company", "co-1", "--url", "https://169.254.169.254/latest"])
    assert code == 1
    assert capsys.readouterr().err == (
        "matchmaker: webhook host 169.254.169.254 is a cloud metadata address: only public addresses are allowed\n"
    )
