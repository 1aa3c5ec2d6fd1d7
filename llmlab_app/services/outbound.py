"""Where the server may send a request on a user's behalf (budget webhooks): public addresses
only, checked when the URL is saved and again, on the resolved addresses, at every connection.

A user who can make the server POST to `http://127.0.0.1:9999` (or `http://2130706433:9999`,
`http://[::ffff:7f00:1]`, a name that resolves to 10.0.0.5, the cloud metadata address
169.254.169.254…) reaches services that trust the server's own network. The delivery client
therefore resolves a host once, refuses it if any of its addresses is not public, and connects
to exactly the address it checked (no second lookup, so no DNS-rebinding window); the URL, and
with it the Host header and the TLS server name, stays the one the user gave.

`LLMLAB_WEBHOOK_ALLOW_PRIVATE=1` turns the checks off, for receivers on the operator's own
network.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from llmlab_app.errors import AddressNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

ALLOW_PRIVATE_HINT = (
    "webhooks may only go to public addresses (the server's operator can allow private ones "
    "with LLMLAB_WEBHOOK_ALLOW_PRIVATE=1)"
)
NOT_PUBLIC = "the webhook host is not a public address"
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


# --- addresses -----------------------------------------------------------------------------


def blocked_reason(address: IPAddress) -> str | None:
    """Why the server must not connect to `address` ("loopback", "private", …), or None for
    a public address. IPv6 addresses that carry an IPv4 one (IPv4-mapped, IPv4-compatible,
    6to4, NAT64, Teredo) are judged by the IPv4 address they lead to."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded:
            reasons = [blocked_reason(ipv4) for ipv4 in embedded]
            if any(reasons):
                return next(reason for reason in reasons if reason)
            if address in _NAT64 or address.sixtofour is not None:
                return None  # the way IPv6-only networks reach a public IPv4 address
        if address.is_site_local:
            return "site-local"
        if address in _UNIQUE_LOCAL:
            return "unique-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-public"  # e.g. 100.64.0.0/10, carrier-grade NAT
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    return []


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells, in any spelling a resolver accepts (`127.1`,
    `2130706433`, `0x7f.0.0.1`, `0177.0.0.1`, `[::ffff:7f00:1]`, a zone id), or None for a
    name. Raises `AddressNotAllowed` for a numeric host that is no valid address (`1.2.3.999`).
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError as exc:
            raise AddressNotAllowed(f"{host!r} is not a valid IPv6 address") from exc
    return _ipv4_any_spelling(text)


def _ipv4_any_spelling(text: str) -> ipaddress.IPv4Address | None:
    # The IPv4 parser of the WHATWG URL standard and of inet_aton(3): one to four parts, each
    # decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    parts = text.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    numbers = [_ipv4_number(part) for part in parts]
    if not parts or any(number is None for number in numbers):
        return None
    if len(parts) > 4:
        raise AddressNotAllowed(f"{text!r} is not a valid IPv4 address")
    *leading, last = (number for number in numbers if number is not None)
    if any(number > 255 for number in leading) or last >= 256 ** (4 - len(leading)):
        raise AddressNotAllowed(f"{text!r} is not a valid IPv4 address")
    value = last + sum(number << (8 * (3 - index)) for index, number in enumerate(leading))
    return ipaddress.IPv4Address(value)


def _ipv4_number(part: str) -> int | None:
    if part.startswith("0x"):
        digits, base = part[2:], 16
        if digits == "":
            return 0
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    try:
        return int(digits, base) if digits.isalnum() and digits.isascii() else None
    except ValueError:
        return None


def _is_local_name(host: str) -> bool:
    name = host.strip().lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


# --- checks --------------------------------------------------------------------------------


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """The URL when the server may POST to it; else `AddressNotAllowed` (an `InvalidInput`,
    so a 422) saying why. Names are not looked up here (nothing slow on the request path):
    every delivery checks the addresses they resolve to."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise AddressNotAllowed(f"webhook_url: not a valid URL ({exc})") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise AddressNotAllowed("webhook_url: use a full http:// or https:// address")
    if allow_private:
        return url
    try:
        address = ip_literal(parsed.host)
    except AddressNotAllowed as exc:
        raise AddressNotAllowed(f"webhook_url: {exc.message}") from exc
    if address is None:
        if _is_local_name(parsed.host):
            raise AddressNotAllowed(
                f"webhook_url: {parsed.host} is this machine; {ALLOW_PRIVATE_HINT}"
            )
        return url
    reason = blocked_reason(address)
    if reason:
        raise AddressNotAllowed(
            f"webhook_url: {address} is a {reason} address; {ALLOW_PRIVATE_HINT}"
        )
    return url


def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo
) -> list[str]:
    """The addresses of `host` in the resolver's order, each checked unless `allow_private`:
    `AddressNotAllowed` when any of them is not public (a name with one private address among
    public ones could be answered with that one next time), `httpcore.ConnectError` when the
    name does not resolve."""
    if _is_local_name(host) and not allow_private:
        raise AddressNotAllowed(NOT_PUBLIC)
    literal = ip_literal(host)
    if literal is not None:
        found: Iterable[IPAddress] = [literal]
    else:
        try:
            answers = resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        found = [ipaddress.ip_address(str(answer[4][0]).split("%", 1)[0]) for answer in answers]
    addresses = list(dict.fromkeys(found))
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}")
    if not allow_private and any(blocked_reason(address) for address in addresses):
        # The resolved addresses stay out of the message: it ends up in the user's delivery
        # log, and internal names must not become a way to map the operator's network.
        raise AddressNotAllowed(NOT_PUBLIC)
    return [str(address) for address in addresses]


class CheckedNetworkBackend(httpcore.SyncBackend):
    """httpcore's socket backend that resolves a host itself, once, checks the addresses
    (`checked_addresses`) and connects to one of exactly those: no second lookup, so no
    DNS-rebinding window between the check and the connection.

    httpcore passes the URL's host here and afterwards starts TLS with that same host as the
    server name, so the certificate is still verified for the name the user gave."""

    def __init__(self, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> None:
        self._allow_private = allow_private
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = checked_addresses(
            host, port, allow_private=self._allow_private, resolve=self._resolve
        )
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error


def outbound_transport(
    *,
    allow_private: bool,
    resolve: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.HTTPTransport:
    """An httpx transport for requests to user-given URLs: public addresses only unless
    `allow_private`, and no proxy from the environment (a proxy would resolve the name
    itself). `resolve` and `ssl_context` replace the system resolver and CA store."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its connection pool without a way to pass a network backend; this is the
    # pool it would build (its default limits), with ours.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=CheckedNetworkBackend(
            allow_private=allow_private, resolve=resolve or socket.getaddrinfo
        ),
    )
    return transport
