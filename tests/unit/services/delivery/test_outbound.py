"""The outbound policy of webhook URLs (services/delivery/outbound.py): https to public addresses only.

Host names resolve through a table (no DNS); IP literals go through the system resolver, which
returns them as they are without asking DNS.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from services.delivery import outbound
from services.delivery.outbound import check_url, refusal
from services.errors import InvalidInputError, RefusedDestination

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"


def table(**hosts: list[str]):
    """A resolver answering from `hosts` (dots in names as underscores); any other host does not resolve."""

    def resolve(host: str, port: int) -> list[str]:
        try:
            return hosts[host.replace(".", "_")]
        except KeyError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    return resolve


def refused(url: str, allow_loopback: bool = False, resolve: outbound.Resolver = outbound.system_resolver) -> str:
    with pytest.raises(RefusedDestination) as caught:
        check_url(url, allow_loopback, resolve)
    return str(caught.value)


def test_https_to_a_public_address_is_allowed():
    destination = check_url("https://hooks.example/co-1", resolve=table(hooks_example=[PUBLIC_V4, PUBLIC_V6]))
    assert (destination.host, destination.port) == ("hooks.example", 443)
    assert destination.addresses == (ipaddress.ip_address(PUBLIC_V4), ipaddress.ip_address(PUBLIC_V6))
    assert check_url(f"https://{PUBLIC_V4}:8443/hook").port == 8443


def test_plain_http_is_refused_even_to_a_public_address():
    public = table(hooks_example=[PUBLIC_V4])
    assert "must be https" in refused("http://hooks.example/co-1", resolve=public)
    assert "must be https" in refused("http://hooks.example/co-1", allow_loopback=True, resolve=public)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hook", "https://127.0.0.1/hook", "http://[::1]:8000/hook"])
def test_loopback_is_allowed_only_with_the_development_setting(url):
    assert check_url(url, allow_loopback=True).addresses[0].is_loopback
    message = refused(url)
    assert "MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP" in message


def test_a_host_name_of_a_loopback_address_follows_the_same_rule():
    local = table(localhost=["127.0.0.1", "::1"])
    assert check_url("http://localhost:8000/hook", allow_loopback=True, resolve=local).host == "localhost"
    assert "resolves to 127.0.0.1, a loopback address" in refused("https://localhost/hook", resolve=local)


@pytest.mark.parametrize(
    "host, reason",
    [
        ("127.0.0.1", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("192.168.1.1", "a private address"),
        ("172.16.0.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("169.254.1.1", "a link-local address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "the unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", ""),  # reserved for future use (the reason given depends on the Python version)
        ("192.0.2.10", ""),  # documentation range: not routed
        ("[::1]", "a loopback address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("[fd12:3456::1]", "a private address"),
        ("[fe80::1]", "a link-local address"),
        ("[::]", "the unspecified address"),
        ("[ff02::1]", "a multicast address"),
        ("[::ffff:10.0.0.1]", "a private address"),
        ("[::ffff:127.0.0.1]", "a loopback address"),
        ("[::ffff:169.254.169.254]", "a cloud metadata address"),
        ("[64:ff9b::a00:1]", "a private address"),  # NAT64 of 10.0.0.1
        ("[2002:a00:1::]", "a private address"),  # 6to4 of 10.0.0.1
    ],
)
def test_internal_addresses_are_refused_with_the_reason(host, reason):
    message = refused(f"https://{host}/hook")
    assert f"is {reason}" in message and "only public addresses are allowed" in message


@pytest.mark.parametrize("host", ["10.0.0.5", "169.254.169.254", "[fd00:ec2::254]", "[::ffff:10.0.0.1]"])
def test_the_development_setting_allows_loopback_and_nothing_else(host):
    refused(f"https://{host}/hook", allow_loopback=True)


def test_a_host_name_resolving_to_a_private_address_is_refused():
    message = refused("https://hooks.example/co-1", resolve=table(hooks_example=["10.1.2.3"]))
    assert message == (
        "webhook host hooks.example resolves to 10.1.2.3, a private address: only public addresses are allowed"
    )


def test_one_private_address_among_public_ones_refuses_the_host():
    resolve = table(hooks_example=[PUBLIC_V4, "192.168.1.1", PUBLIC_V6])
    assert "resolves to 192.168.1.1, a private address" in refused("https://hooks.example/co-1", resolve=resolve)


def test_public_addresses_inside_ipv6_forms_are_allowed():
    for address in ("::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1", PUBLIC_V6, PUBLIC_V4):
        assert refusal(ipaddress.ip_address(address)) is None, address


def test_a_host_that_does_not_resolve_is_not_a_refusal():
    with pytest.raises(OSError):  # at delivery time another attempt may find it; at subscribe time it is refused
        check_url("https://nowhere.example/hook", resolve=table())


@pytest.mark.parametrize("url", ["ftp://hooks.example/x", "https:///x", "mailto:x@hooks.example", "https://[::1/x"])
def test_urls_no_request_can_go_to_are_refused(url):
    refused(url, resolve=table(hooks_example=[PUBLIC_V4]))


def test_a_refusal_is_the_projects_invalid_input_error():
    assert issubclass(RefusedDestination, InvalidInputError)
