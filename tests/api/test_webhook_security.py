"""Budget webhooks cannot be aimed at the server's own network (checked when saved and again,
on the resolved addresses, when sent), never show the receiver's answer, and are signed."""

from __future__ import annotations

import hashlib
import hmac
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmlab_app.errors import AddressNotAllowed
from llmlab_app.services import budgets
from llmlab_app.services.outbound import blocked_reason, ip_literal
from llmlab_app.services.webhooks import deliver_due_webhooks, new_http_client
from tests.webhook_receiver import Receiver

DOLLARS_60_CENTS = {"model": "gpt-4o", "input_tokens": 240_000}  # crosses 50 % of $1
DOCS = Path(__file__).resolve().parents[2] / "docs" / "budgets.md"

# Every spelling the security review (and the usual SSRF lists) tried.
REFUSED_URLS = [
    "http://127.0.0.1:9999",
    "http://localhost:9999",
    "http://LOCALHOST.:9999/x",
    "http://admin.localhost/",
    "http://2130706433:9999",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.0.1./",
    "http://0/",
    "http://0.0.0.0:8000/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://[::1]:9999/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fc00::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2001:db8::1]/",
]
ACCEPTED_URLS = [
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://example.com:8443/llmlab",
    "http://93.184.216.34/hook",
    "http://[2606:4700:4700::1111]/hook",
    "http://[64:ff9b::5db8:d822]/hook",  # NAT64 of a public address
]


@pytest.fixture
def settings(settings: Any) -> Any:
    """Default address rules (public only); the tests drive deliveries themselves."""
    return settings.model_copy(
        update={"webhook_worker_enabled": False, "webhook_timeout_seconds": 2.0}
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _budget_body(**fields: Any) -> dict[str, Any]:
    return {"name": "monthly", "amount_usd": "1", "alert_thresholds": [50]} | fields


def _create_budget(account: Any, **fields: Any) -> Any:
    return account.client.post(
        "/api/budgets", json=_budget_body(**fields), headers=account.key_headers
    )


def _local_budget(session: Any, account: Any, url: str) -> Any:
    """A budget whose URL was accepted when private addresses were allowed (an operator who
    has since turned that off, or a row from before these checks)."""
    return budgets.create_budget(
        session,
        actor=account.actor(session),
        name="local",
        amount_usd=Decimal(1),
        period="monthly",
        alert_thresholds=[50],
        webhook_url=url,
        allow_private_webhooks=True,
    )


def _deliveries(account: Any, budget_id: Any) -> list[dict[str, Any]]:
    response = account.get(f"/api/budgets/{budget_id}/deliveries")
    assert response.status_code == 200, response.text
    return response.json()["data"]


# --- when the URL is saved ------------------------------------------------------------------


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_webhook_to_a_non_public_address_is_refused_when_created(account, url):
    response = _create_budget(account, webhook_url=url)
    assert response.status_code == 422, (url, response.text)
    body = response.json()
    assert body["success"] is False and body["error"].startswith("webhook_url"), body
    assert account.get("/api/budgets").json()["data"] == []


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_a_webhook_to_a_public_address_is_accepted(account, url):
    response = _create_budget(account, webhook_url=url)
    assert response.status_code == 201, (url, response.text)


def test_a_webhook_changed_to_a_non_public_address_is_refused(account):
    created = _create_budget(account, webhook_url="https://hooks.slack.com/services/T/B/X")
    budget_id = created.json()["data"]["id"]
    response = account.client.put(
        f"/api/budgets/{budget_id}",
        json={"webhook_url": "http://169.254.169.254/latest/meta-data/"},
        headers=account.key_headers,
    )
    assert response.status_code == 422 and response.json()["error"].startswith("webhook_url")
    [budget] = account.get("/api/budgets").json()["data"]
    assert budget["webhook_url"] == "https://hooks.slack.com/services/T/B/X"


@pytest.mark.parametrize(
    "url", ["http://2130706433:9999", "http://0x7f.1/", "http://127.1/", "http://[::ffff:7f00:1]/"]
)
def test_the_service_refuses_every_spelling_itself(session, account, url):
    # The dashboard passes the text as typed, without the API's URL normalisation.
    with pytest.raises(AddressNotAllowed, match=r"^webhook_url: .*loopback"):
        budgets.create_budget(
            session,
            actor=account.actor(session),
            name="x",
            amount_usd=Decimal(1),
            period="monthly",
            webhook_url=url,
        )


def test_the_operator_switch_allows_private_receivers(settings, engine):
    from fastapi.testclient import TestClient

    from llmlab_app.api import create_app
    from tests.conftest import Account

    app = create_app(settings.model_copy(update={"webhook_allow_private": True}), engine)
    with TestClient(app) as client:
        account = Account(client, "selfhost@example.com")
        assert _create_budget(account, webhook_url="http://10.1.2.3:8080/hook").status_code == 201


def test_address_spellings_are_read_as_resolvers_read_them():
    assert str(ip_literal("2130706433")) == "127.0.0.1"
    assert str(ip_literal("0x7f.1")) == "127.0.0.1"
    assert str(ip_literal("0177.0.0.01")) == "127.0.0.1"
    assert str(ip_literal("10.1")) == "10.0.0.1"
    assert str(ip_literal("192.168.257")) == "192.168.1.1"
    assert str(ip_literal("[fe80::1%eth0]")) == "fe80::1"
    assert ip_literal("hooks.slack.com") is None
    assert ip_literal("1e100.net") is None
    with pytest.raises(AddressNotAllowed):
        ip_literal("1.2.3.999")
    # inet_aton agrees on each of them.
    for spelling in ("2130706433", "0x7f.1", "0177.0.0.01", "10.1", "192.168.257"):
        assert socket.inet_ntoa(socket.inet_aton(spelling)) == str(ip_literal(spelling))


def test_each_kind_of_address_is_named():
    import ipaddress

    kinds = {
        "127.0.0.1": "loopback",
        "::1": "loopback",
        "10.0.0.1": "private",
        "169.254.169.254": "link-local",
        "fd00::1": "unique-local",
        "0.0.0.0": "unspecified",
        "ff02::1": "multicast",
        "240.0.0.1": "reserved",
        "::ffff:10.0.0.1": "private",
        "2002:a00:1::": "private",
        "100.64.0.1": "non-public",
        "8.8.8.8": None,
        "2606:4700:4700::1111": None,
    }
    assert {a: blocked_reason(ipaddress.ip_address(a)) for a in kinds} == kinds


# --- when it is sent --------------------------------------------------------------------------


def test_a_stored_private_url_is_refused_again_at_delivery(app, session, account, receiver):
    budget = _local_budget(session, account, receiver.url)
    account.track(DOLLARS_60_CENTS)

    result = deliver_due_webhooks(app.state.engine, app.state.settings)
    assert (result.attempted, result.failed) == (1, 1)
    assert receiver.requests == []
    [log] = _deliveries(account, budget.id)
    assert (log["status"], log["attempts"], log["last_status_code"]) == ("failed", 1, None)
    assert log["last_error"] == "AddressNotAllowed: the webhook host is not a public address"


def _resolving(answers: dict[str, list[list[str]]], calls: list[str]) -> Any:
    """A resolver that answers each name with the next list of addresses it is given."""

    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        addresses = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    app, session, account, receiver
):
    url = f"http://hooks.example.com:{receiver.port}/hook"
    budget = _create_budget(account, webhook_url=url).json()["data"]  # names are not resolved
    account.track(DOLLARS_60_CENTS)
    calls: list[str] = []
    # One public address and one private one: the private one could be the next answer.
    resolve = _resolving({"hooks.example.com": [["93.184.216.34", "127.0.0.1"]]}, calls)
    with new_http_client(app.state.settings, resolve=resolve) as client:
        result = deliver_due_webhooks(app.state.engine, app.state.settings, client=client)
    assert result.failed == 1 and calls == ["hooks.example.com"]
    assert receiver.requests == []
    [log] = _deliveries(account, budget["id"])
    assert log["last_error"].startswith("AddressNotAllowed")


def test_the_connection_goes_to_the_checked_address_with_the_original_host(app, account, receiver):
    # DNS rebinding: the first answer (public) is what is checked, a second lookup would get
    # loopback. The delivery connects to the first answer (unreachable from the test machine)
    # and never asks again, so the local receiver sees nothing.
    url = f"http://rebind.example.com:{receiver.port}/hook"
    budget = _create_budget(account, webhook_url=url).json()["data"]
    account.track(DOLLARS_60_CENTS)
    calls: list[str] = []
    resolve = _resolving({"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]}, calls)
    settings = app.state.settings.model_copy(update={"webhook_timeout_seconds": 0.5})
    with new_http_client(settings, resolve=resolve) as client:
        deliver_due_webhooks(app.state.engine, settings, client=client)
    assert calls == ["rebind.example.com"]
    assert receiver.requests == []
    [log] = _deliveries(account, budget["id"])
    assert log["last_error"] in {"ConnectError", "ConnectTimeout"}

    # With private addresses allowed, a name is still resolved once by us and the request
    # reaches the address we resolved, with the name the user gave as its Host.
    calls.clear()
    resolve = _resolving({"hooks.example.com": [["127.0.0.1"]]}, calls)
    from llmlab_app.services.outbound import outbound_transport

    with httpx.Client(transport=outbound_transport(allow_private=True, resolve=resolve)) as c:
        response = c.post(f"http://hooks.example.com:{receiver.port}/hook", json={"x": 1})
    assert response.status_code == 200 and calls == ["hooks.example.com"]
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{receiver.port}"


def test_tls_is_verified_for_the_url_host_while_connecting_to_the_resolved_address(tmp_path):
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from llmlab_app.services.outbound import outbound_transport

    ca_path, cert_path, key_path = _certificates(tmp_path, "hooks.example.com")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server_names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)  # type: ignore[assignment]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    trust = ssl.create_default_context(cafile=str(ca_path))
    resolve = _resolving(
        {"hooks.example.com": [["127.0.0.1"]], "other.example.com": [["127.0.0.1"]]}, []
    )
    try:
        transport = outbound_transport(allow_private=True, resolve=resolve, ssl_context=trust)
        with httpx.Client(transport=transport) as client:
            ok = client.post(f"https://hooks.example.com:{port}/hook", content=b"{}")
            assert ok.status_code == 204 and server_names == ["hooks.example.com"]
            # Same address, a name the certificate is not for: refused.
            with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED"):
                client.post(f"https://other.example.com:{port}/hook", content=b"{}")
    finally:
        server.shutdown()
        server.server_close()


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a certificate for `name` signed by it."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(pem))
    cert_path.write_bytes(cert.public_bytes(pem))
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_path, cert_path, key_path


def test_the_delivery_log_keeps_the_status_code_never_the_receivers_body(
    app, session, account, receiver
):
    allowed = app.state.settings.model_copy(update={"webhook_allow_private": True})
    receiver.answer = (403, b"INTERNAL-ONLY admin panel: db_password=hunter2", {})
    budget = _local_budget(session, account, receiver.url)
    account.track(DOLLARS_60_CENTS)
    assert deliver_due_webhooks(app.state.engine, allowed).failed == 1
    response = account.get(f"/api/budgets/{budget.id}/deliveries")
    assert "INTERNAL-ONLY" not in response.text and "hunter2" not in response.text
    [log] = response.json()["data"]
    assert (log["last_status_code"], log["last_error"]) == (403, "HTTP 403")


def test_a_closed_port_is_logged_as_an_error_class_only(app, session, account):
    from tests.live_server import free_port

    allowed = app.state.settings.model_copy(update={"webhook_allow_private": True})
    budget = _local_budget(session, account, f"http://127.0.0.1:{free_port()}/closed")
    account.track(DOLLARS_60_CENTS)
    deliver_due_webhooks(app.state.engine, allowed)
    [log] = _deliveries(account, budget.id)
    assert log["last_error"] == "ConnectError"  # not "[Errno 111] Connection refused"


def test_a_redirect_is_not_followed(app, session, account, receiver):
    internal = Receiver()
    try:
        allowed = app.state.settings.model_copy(update={"webhook_allow_private": True})
        receiver.answer = (302, b"", {"Location": internal.url})
        budget = _local_budget(session, account, receiver.url)
        account.track(DOLLARS_60_CENTS)
        assert deliver_due_webhooks(app.state.engine, allowed).failed == 1
        assert len(receiver.requests) == 1 and internal.requests == []
        [log] = _deliveries(account, budget.id)
        assert (log["status"], log["last_status_code"], log["last_error"]) == (
            "failed",
            302,
            "HTTP 302",
        )
    finally:
        internal.close()


# --- signatures ------------------------------------------------------------------------------


def _signing_secret(account: Any, *, rotate: bool = False) -> str:
    path = "/api/webhooks/signing-secret" + ("/rotate" if rotate else "")
    call = account.client.post if rotate else account.client.get
    response = call(path, headers=account.token_headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["secret"]


def _verify_from_the_docs() -> Any:
    """The receiver-side check exactly as docs/budgets.md prints it."""
    text = DOCS.read_text()
    section = text[text.index("### Verifying a delivery") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)
    return namespace["verify_llmlab_signature"]


def test_every_delivery_is_signed_with_the_accounts_secret(app, session, account, receiver):
    allowed = app.state.settings.model_copy(update={"webhook_allow_private": True})
    secret = _signing_secret(account)
    assert secret.startswith("whsec_") and len(secret) > 40
    assert _signing_secret(account) == secret  # stable until rotated
    _local_budget(session, account, receiver.url)
    account.track(DOLLARS_60_CENTS)
    before = int(time.time())
    deliver_due_webhooks(app.state.engine, allowed)

    [request] = receiver.requests
    header = request["headers"]["X-LLMLab-Signature"]
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    assert match is not None, header
    timestamp = int(match.group(1))
    assert before - 1 <= timestamp <= time.time() + 1
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + request["raw"], hashlib.sha256
    ).hexdigest()
    assert match.group(2) == expected
    assert request["headers"]["Content-Type"] == "application/json"

    verify = _verify_from_the_docs()
    assert verify(secret, request["raw"], header)
    assert not verify(secret, request["raw"] + b" ", header)  # body changed
    assert not verify("whsec_other", request["raw"], header)
    assert not verify(secret, request["raw"], header, now=timestamp + 301)  # replayed later


def test_a_rotated_secret_signs_the_next_attempts(app, session, account, receiver):
    allowed = app.state.settings.model_copy(update={"webhook_allow_private": True})
    old = _signing_secret(account)
    receiver.failures = [503]
    _local_budget(session, account, receiver.url)
    account.track(DOLLARS_60_CENTS)
    deliver_due_webhooks(app.state.engine, allowed)
    new = _signing_secret(account, rotate=True)
    assert new != old and _signing_secret(account) == new
    deliver_due_webhooks(app.state.engine, allowed, now=datetime.now(UTC) + timedelta(hours=1))
    first, second = receiver.requests
    verify = _verify_from_the_docs()
    for request, secret in ((first, old), (second, new)):
        header = request["headers"]["X-LLMLab-Signature"]
        timestamp = int(header.split(",")[0].removeprefix("t="))
        assert verify(secret, request["raw"], header, now=timestamp)
    retry_header = second["headers"]["X-LLMLab-Signature"]
    retry_t = int(retry_header.split(",")[0].removeprefix("t="))
    assert not verify(old, second["raw"], retry_header, now=retry_t)


def test_the_signing_secret_routes_take_a_login_token_only(account, other_account):
    for method, path in (
        ("GET", "/api/webhooks/signing-secret"),
        ("POST", "/api/webhooks/signing-secret/rotate"),
    ):
        with_key = account.client.request(method, path, headers=account.key_headers)
        assert with_key.status_code == 401 and with_key.json()["success"] is False
        anonymous = account.client.request(method, path)
        assert anonymous.status_code == 401
    assert _signing_secret(account) != _signing_secret(other_account)
