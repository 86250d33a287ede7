"""Where the notifier may send: the outbound policy for webhook URLs (no requests into our own network).

A webhook URL is chosen by a company, so without a policy the notifier would POST wherever it is told:
to the cloud metadata service, the broker, an admin page on 10.x (server-side request forgery). So:

* the URL must be https; plain http only to a loopback host, and only with the development setting
  MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP (which also allows loopback over https);
* every address the host resolves to must be public: loopback, private, link-local, unspecified,
  multicast, reserved, shared (100.64.0.0/10) and cloud metadata addresses are refused, also inside
  IPv4-mapped, 6to4 and NAT64 IPv6 addresses. One refused address refuses the host.

`check_url` is applied when a subscription is published and again before every delivery attempt (DNS
answers change); the sender then connects to the checked addresses only, so a second DNS answer
cannot slip in between (DNS rebinding). The module does no I/O itself: the resolver is a parameter,
which tests replace with a table.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from services.errors import RefusedDestination

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]  # (host, port) → its IP addresses, as text; OSError if none

DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public, not "private" either
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the last 32 bits are the IPv4 address
ALLOW_SETTING = "MATCHMAKER_NOTIFY_ALLOW_LOOPBACK_HTTP"


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked webhook URL: its host as sent (Host header, TLS name) and the addresses allowed."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host name or IP literal, without brackets
    port: int
    addresses: tuple[IPAddress, ...]  # every address the host resolved to, in the resolver's order


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the system resolver (an IP literal resolves to itself)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress, allow_loopback: bool = False) -> str | None:
    """Why the notifier may not connect to `address` (in words), or None when it may."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded, allow_loopback)
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address in SHARED:
        return "a shared (carrier-grade NAT) address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped ::ffff:a.b.c.d, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def check_url(url: str, allow_loopback: bool = False, resolve: Resolver = system_resolver) -> Destination:
    """The URL's destination if the policy allows it; else RefusedDestination saying why.

    A resolver failure (OSError, socket.gaierror) is not a refusal and propagates: at delivery time
    it is worth another attempt, at subscribe time the caller says the host does not resolve.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise RefusedDestination(f"webhook URL is not valid: {error}") from error
    scheme = parsed.scheme
    if scheme not in DEFAULT_PORTS or not parsed.raw_host:
        raise RefusedDestination("webhook URL must be an absolute https:// URL")
    if scheme == "http" and not allow_loopback:
        raise RefusedDestination(
            f"webhook URL must be https (plain http only to a loopback host, with {ALLOW_SETTING}=true)"
        )
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or DEFAULT_PORTS[scheme]
    addresses = tuple(ipaddress.ip_address(a) for a in resolve(host, port))
    if not addresses:
        raise OSError(f"{host} resolved to no address")
    check_addresses(host, addresses, allow_loopback)
    if scheme == "http" and not all(_loopback(a) for a in addresses):
        raise RefusedDestination(f"webhook URL must be https: {host} is not a loopback host")
    return Destination(parsed, host, port, addresses)


def check_addresses(host: str, addresses: Sequence[IPAddress], allow_loopback: bool = False) -> None:
    """RefusedDestination unless every address `host` resolved to is allowed."""
    for address in addresses:
        reason = refusal(address, allow_loopback)
        if reason is not None:
            what = f"is {reason}" if _literal(host) == address else f"resolves to {address}, {reason}"
            hint = f" (for local development: {ALLOW_SETTING}=true)" if _loopback(address) else ""
            raise RefusedDestination(f"webhook host {host} {what}: only public addresses are allowed{hint}")


def _loopback(address: IPAddress) -> bool:
    embedded = _embedded_ipv4(address)
    return (embedded or address).is_loopback


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
