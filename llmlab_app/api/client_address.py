"""The address of the client behind a request, for limits counted per address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def client_address(request: Request) -> str:
    """The client's IP address: the peer's, unless the peer is one of `LLMLAB_TRUSTED_PROXIES`;
    then the rightmost `X-Forwarded-For` hop that is not a trusted proxy.

    Hops to the left of that one were written by whoever sent the request to the proxy, so
    they prove nothing; believing them would let any client pick its own rate limit identity.
    """
    peer = request.client.host if request.client else UNKNOWN
    trusted: Sequence[Network] = request.app.state.settings.trusted_proxies
    return forwarded_client(peer, request.headers.getlist("x-forwarded-for"), trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """`client_address` on plain values: the peer address, the `X-Forwarded-For` header
    values in the order received, and the trusted proxy networks."""
    if not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:100]
    # Every hop is one of our proxies (or there is no header): the leftmost is the closest we
    # know to the client.
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    if not trusted:
        return False
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in trusted if ip.version == network.version)
