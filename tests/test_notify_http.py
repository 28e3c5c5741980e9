"""The one outbound HTTP client: SSRF guard at connect time, no redirects,
short timeouts, capped bodies, secret URLs kept out of logs. Receivers are
real servers on 127.0.0.1 (tests.fakes); nothing leaves the machine."""

from __future__ import annotations

import http.client as stdlib_client
import ipaddress
import logging
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

from incidents.notify import http
from incidents.notify.errors import TransportError, UnsafeDestination
from tests.fakes import BlackHole, HttpRecorder

JSON = {"Content-Type": "application/json"}

# Literal destinations that must never be reached, with the category named.
REFUSED = [
    ("http://127.0.0.1/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://100.64.0.1/hook", "non-public"),
    ("http://[::1]/hook", "loopback"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fd00::1]/hook", "private"),
    ("http://[::ffff:127.0.0.1]/hook", "127.0.0.1"),
    ("http://[::ffff:169.254.169.254]/hook", "169.254.169.254"),
    ("http://[2002:7f00:1::]/hook", "127.0.0.1"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/hook", "169.254.169.254"),  # NAT64 of the metadata IP
]


@pytest.fixture
def nothing_allowed(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = []
    return settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the SSRF guard ------------------------------------------------------------------


@pytest.mark.parametrize(("url", "named"), REFUSED, ids=[u for u, _ in REFUSED])
def test_post_refuses_private_loopback_and_link_local_addresses(nothing_allowed, url, named):
    with pytest.raises(UnsafeDestination) as caught:
        http.post(url, body=b"{}", headers=JSON)

    assert caught.value.permanent is True
    assert named in caught.value.message


@pytest.mark.parametrize(("url", "named"), REFUSED, ids=[u for u, _ in REFUSED])
def test_check_url_refuses_the_same_addresses_at_save_time(nothing_allowed, url, named):
    with pytest.raises(UnsafeDestination):
        http.check_url(url)


def test_loopback_server_is_not_reached_unless_allowed(nothing_allowed):
    with HttpRecorder() as recorder:
        with pytest.raises(UnsafeDestination):
            http.post(recorder.url("/hook"), body=b"{}", headers=JSON)

        assert recorder.requests == []


def test_localhost_is_refused_at_connect_time_although_it_is_a_name(nothing_allowed):
    with HttpRecorder() as recorder:
        url = f"http://localhost:{recorder.port}/hook"

        with pytest.raises(UnsafeDestination) as caught:
            http.post(url, body=b"{}", headers=JSON)
        with pytest.raises(UnsafeDestination):
            http.check_url(url)

        assert "localhost resolves to 127.0.0.1, a loopback address" in caught.value.message
        assert recorder.requests == []


def test_allowed_network_is_reached(http_recorder):
    result = http.post(http_recorder.url("/hook"), body=b'{"a": 1}', headers=JSON)

    assert result.status == 200
    assert result.body == b"ok"
    assert http_recorder.requests[0].json() == {"a": 1}


def test_localhost_is_reached_when_127_0_0_1_is_allowed(http_recorder):
    result = http.post(f"http://localhost:{http_recorder.port}/hook", body=b"{}", headers=JSON)

    assert result.status == 200
    assert http_recorder.requests[0].headers["host"] == f"localhost:{http_recorder.port}"


def test_ipv4_mapped_form_of_an_allowed_address_is_allowed(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]

    assert http.refused_reason(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert http.refused_reason(ipaddress.ip_address("::ffff:127.0.0.2")) is not None


def test_allowed_networks_open_only_what_they_name(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]

    http.check_url("http://10.20.30.40:8080/hook")
    with pytest.raises(UnsafeDestination):
        http.check_url("http://192.168.1.1/hook")


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "64:ff9b::5db8:d70e",
    ],  # NAT64 (DNS64 networks) of a public address
)
def test_public_addresses_are_not_refused(nothing_allowed, address):
    assert http.refused_reason(ipaddress.ip_address(address)) is None


# --- URLs we do not speak ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "https://user:pass@example.com/hook",
        "http://127.0.0.1/a b",
        "http://127.0.0.1/a\r\nX-Injected: 1",
        "https:///no-host",
        "not a url",
    ],
)
def test_other_schemes_and_credentials_are_permanent_errors(url):
    with pytest.raises(TransportError) as caught:
        http.post(url, body=b"{}", headers=JSON)
    with pytest.raises(ValueError):
        http.check_url(url)

    assert caught.value.permanent is True


def test_a_host_that_does_not_resolve_is_refused_at_save_time_with_a_clear_message():
    with pytest.raises(ValueError, match=r"Could not resolve the host no-such-host\.invalid"):
        http.check_url("https://no-such-host.invalid/hook")


def test_a_host_that_does_not_resolve_at_send_time_is_retried():
    with pytest.raises(TransportError) as caught:
        http.post("https://no-such-host.invalid/hook", body=b"{}", headers=JSON)

    assert not isinstance(caught.value, UnsafeDestination)
    assert caught.value.permanent is False


# --- redirects, timeouts, failures ----------------------------------------------------


def test_a_redirect_to_the_metadata_address_is_not_followed(http_recorder):
    http_recorder.script(
        "/hook", [(302, {"Location": "http://169.254.169.254/latest/meta-data/"}, "")]
    )

    with pytest.raises(TransportError) as caught:
        http.post(http_recorder.url("/hook"), body=b"{}", headers=JSON)

    assert caught.value.permanent is True
    assert caught.value.status_code == 302
    assert "169.254.169.254" in caught.value.message
    assert "not followed" in caught.value.message
    assert len(http_recorder.requests) == 1


def test_a_redirect_to_an_allowed_address_is_not_followed_either(http_recorder):
    http_recorder.script("/hook", [(307, {"Location": http_recorder.url("/elsewhere")}, "")])

    with pytest.raises(TransportError):
        http.post(http_recorder.url("/hook"), body=b"{}", headers=JSON)

    assert [r.path for r in http_recorder.requests] == ["/hook"]


def test_a_receiver_that_never_answers_times_out_as_retryable(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    settings.NOTIFY_READ_TIMEOUT = 0.3
    with BlackHole() as hole:
        started = time.monotonic()
        with pytest.raises(TransportError) as caught:
            http.post(hole.url("/hook"), body=b"{}", headers=JSON)
        elapsed = time.monotonic() - started

    assert caught.value.permanent is False
    assert "timed out" in caught.value.message
    # Far below the 10 s default: the setting was used (with room for a busy machine).
    assert elapsed < 5


def test_the_timeout_argument_overrides_the_setting(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]
    settings.NOTIFY_READ_TIMEOUT = 30
    with BlackHole() as hole:
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out"):
            http.post(hole.url("/hook"), body=b"{}", headers=JSON, timeout=0.2)

    # Far below the 30 s setting: the argument won (with room for a busy machine).
    assert time.monotonic() - started < 5


def test_a_refused_connection_is_retryable(settings):
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]

    with pytest.raises(TransportError) as caught:
        http.post(f"http://127.0.0.1:{closed_port()}/hook", body=b"{}", headers=JSON)

    assert caught.value.permanent is False


def test_https_to_a_plain_http_server_fails_the_handshake_as_retryable(http_recorder):
    with pytest.raises(TransportError) as caught:
        http.post(f"https://127.0.0.1:{http_recorder.port}/hook", body=b"{}", headers=JSON)

    assert caught.value.permanent is False


# --- what is sent, read and logged ---------------------------------------------------


def test_request_carries_body_headers_and_user_agent(http_recorder):
    http_recorder.script("/hook", [(201, {"X-Request-Id": "abc"}, "created")])

    result = http.post(
        http_recorder.url("/hook?x=1"), body=b'{"k":"v"}', headers={**JSON, "X-Extra": "1"}
    )

    request = http_recorder.requests[0]
    assert (request.method, request.path, request.query) == ("POST", "/hook", "x=1")
    assert request.body == b'{"k":"v"}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "TreeBeard-IR/1"
    assert request.headers["x-extra"] == "1"
    assert result.status == 201
    assert result.headers["x-request-id"] == "abc"


def test_response_body_read_is_capped_at_64_kib(http_recorder):
    http_recorder.script("/hook", [(200, {}, b"x" * (300 * 1024))])

    result = http.post(http_recorder.url("/hook"), body=b"{}", headers=JSON)

    assert len(result.body) == http.MAX_RESPONSE_BYTES == 64 * 1024


def test_secret_webhook_paths_stay_out_of_logs_and_errors(http_recorder, caplog):
    secret = "/services/T000/B000/XXXXSECRETXXXX"
    http_recorder.script(
        secret, [(200, {}, "ok"), (302, {"Location": http_recorder.url(secret)}, "")]
    )
    caplog.set_level(logging.DEBUG, logger="incidents.notify")

    http.post(http_recorder.url(secret), body=b"{}", headers=JSON)
    with pytest.raises(TransportError) as caught:
        http.post(http_recorder.url(secret), body=b"{}", headers=JSON)

    assert "XXXXSECRETXXXX" not in caplog.text
    assert "XXXXSECRETXXXX" not in caught.value.message
    assert f"http://127.0.0.1:{http_recorder.port}/…" in caplog.text


def test_redact_keeps_scheme_and_host_only():
    assert http.redact("https://hooks.slack.com/services/T1/B2/abc?x=1") == (
        "https://hooks.slack.com/…"
    )
    assert http.redact("http://[::1]:8080/x") == "http://[::1]:8080/…"


# --- TLS: connect to the checked IP, verify the certificate for the name -----------


class TlsServer:
    """A one-request-at-a-time HTTPS server on 127.0.0.1 with a self-signed
    certificate for ``localhost``; records the SNI name each client sent."""

    def __init__(self, tmp_path, port: int = 0):
        self.cert = tmp_path / "localhost.pem"
        key = tmp_path / "localhost.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
             "-keyout", str(key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(self.cert, key)
        self.context.sni_callback = lambda _sock, name, _ctx: self.names.append(name)
        self.names: list[str | None] = []
        self.heads: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        data += tls.recv(4096)
                    head, _, body = data.partition(b"\r\n\r\n")
                    self.heads.append(head)
                    length = re.search(rb"(?i)content-length: *(\d+)", head)
                    while length and len(body) < int(length.group(1)):
                        body += tls.recv(4096)  # read it all: closing early resets
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            except (ssl.SSLError, OSError):
                continue  # the client refused our certificate

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def tls_server(tmp_path, http_recorder):  # http_recorder: 127.0.0.1 is allowed
    server = TlsServer(tmp_path)
    yield server
    server.close()


def test_https_is_refused_when_the_certificate_is_not_trusted(tls_server):
    with pytest.raises(TransportError) as caught:
        http.post(f"https://localhost:{tls_server.port}/hook", body=b"{}", headers=JSON)

    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert caught.value.permanent is False


def test_https_sends_the_url_host_as_sni_and_checks_the_certificate_for_it(tls_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))

    result = http.post(f"https://localhost:{tls_server.port}/hook", body=b"{}", headers=JSON)

    assert result.status == 200
    # The socket went to the checked 127.0.0.1; TLS still spoke for "localhost".
    assert tls_server.names == ["localhost"]


def test_https_on_its_own_port_sends_the_host_without_the_port(
    tmp_path, http_recorder, monkeypatch
):
    # Receivers that route or sign by Host expect "hooks.slack.com", not
    # "hooks.slack.com:443"; only the scheme's own port shows it. The server
    # takes 443 when it may; when it may not (not root, or the port is taken
    # on a shared machine), the scheme's own port is moved to the server's.
    url = "https://localhost/hook"
    try:
        server = TlsServer(tmp_path, port=443)
    except OSError:
        server = TlsServer(tmp_path)
        monkeypatch.setattr(stdlib_client, "HTTPS_PORT", server.port)
        url = f"https://localhost:{server.port}/hook"
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cert))
    try:
        assert http.post(url, body=b"{}", headers=JSON).status == 200
    finally:
        server.close()

    assert re.search(rb"(?im)^host: localhost\r?$", server.heads[0]), server.heads[0]


def test_https_to_the_ip_fails_when_the_certificate_names_the_host(tls_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.cert))

    with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        http.post(f"https://127.0.0.1:{tls_server.port}/hook", body=b"{}", headers=JSON)
