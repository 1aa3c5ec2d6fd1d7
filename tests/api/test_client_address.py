"""Limits per client address hold behind a reverse proxy: X-Forwarded-For is believed from
LLMLAB_TRUSTED_PROXIES only, and then only its rightmost hop that is not one of them."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from fastapi.testclient import TestClient

from llmlab_app.api import create_app
from llmlab_app.api.client_address import forwarded_client
from llmlab_app.config import Settings

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # Not through a trusted proxy: the header is whatever the client wrote.
        ("203.0.113.9", ["1.2.3.4"], "203.0.113.9"),
        ("testclient", ["1.2.3.4"], "testclient"),
        # Through our proxy: the hop it appended.
        ("10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
        # The client sent its own header: what the proxy appended is on the right.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),
        ("10.0.0.2", ["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
        # Two of our proxies in a row.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7, 10.0.0.3"], "198.51.100.7"),
        ("fd00::2", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
        # Our proxy, but no header, or only proxies in it.
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.9, 10.0.0.3"], "10.0.0.9"),
        # A hop that is no address is not trusted either.
        ("10.0.0.2", ["198.51.100.7, unknown"], "unknown"),
    ],
)
def test_the_rightmost_untrusted_hop_is_the_client(peer, forwarded_for, client):
    assert forwarded_client(peer, forwarded_for, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored():
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], []) == "127.0.0.1"


def test_trusted_proxies_read_as_json_or_comma_separated(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMLAB_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    assert [str(n) for n in Settings(data_dir=tmp_path).trusted_proxies] == [
        "10.0.0.0/8",
        "192.168.1.1/32",
    ]
    monkeypatch.setenv("LLMLAB_TRUSTED_PROXIES", '["fd00::/8"]')
    assert [str(n) for n in Settings(data_dir=tmp_path).trusted_proxies] == ["fd00::/8"]
    monkeypatch.setenv("LLMLAB_TRUSTED_PROXIES", "10.0.0.0/8, not-a-network")
    with pytest.raises(ValueError, match="LLMLAB_TRUSTED_PROXIES"):
        Settings(data_dir=tmp_path)


def _failed_logins(client: TestClient, forwarded_for: str, count: int) -> list[int]:
    body = {"email": "nobody@example.com", "password": "wrong password"}
    headers = {"X-Forwarded-For": forwarded_for}
    return [
        client.post("/api/auth/login", json=body, headers=headers).status_code for _ in range(count)
    ]


def test_the_sign_in_limit_counts_each_client_behind_a_trusted_proxy(settings: Any, engine):
    limited = settings.model_copy(
        update={"auth_rate_limit": "2/minute", "trusted_proxies": PROXIES}
    )
    with TestClient(create_app(limited, engine), client=("10.0.0.2", 40000)) as proxy:
        assert _failed_logins(proxy, "198.51.100.7", 3) == [401, 401, 429]
        # Another client behind the same proxy has a limit of its own ...
        assert _failed_logins(proxy, "198.51.100.8", 2) == [401, 401]
        # ... and the first cannot escape its own by writing a header of its choice.
        assert _failed_logins(proxy, "1.1.1.1, 198.51.100.7", 1) == [429]


def test_an_untrusted_peer_cannot_pick_its_address(settings: Any, engine):
    limited = settings.model_copy(
        update={"auth_rate_limit": "2/minute", "trusted_proxies": PROXIES}
    )
    with TestClient(create_app(limited, engine), client=("203.0.113.9", 40000)) as direct:
        assert _failed_logins(direct, "198.51.100.1", 2) == [401, 401]
        assert _failed_logins(direct, "198.51.100.2", 1) == [429]
