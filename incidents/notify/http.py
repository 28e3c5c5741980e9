"""The one outbound HTTP client (STYLE.md rule 6): Slack, PagerDuty and
webhooks all POST through ``post``.

Webhook URLs are supplied by users, so every request is guarded:

- only ``http`` and ``https``; no credentials in the URL;
- the host is resolved once, **at connect time**, and every address it
  resolves to is checked; private, loopback, link-local, multicast,
  reserved and unspecified addresses (and IPv6 forms that embed one, such as
  ``::ffff:127.0.0.1``, 6to4 and NAT64) are refused unless
  ``settings.NOTIFY_ALLOWED_NETWORKS`` names them. The socket then connects
  to the checked address itself, so a second DNS answer (rebinding) cannot
  send it elsewhere; TLS still verifies the certificate for the host name;
- redirects are never followed (a 3xx is a permanent error), so a redirect
  cannot lead to a refused address either;
- short timeouts (``NOTIFY_CONNECT_TIMEOUT``, ``NOTIFY_READ_TIMEOUT``) and a
  64 KiB cap on the response body read.

The standard library's ``http.client`` does the HTTP: no proxy from the
environment is used, and nothing here follows a ``Location``.

Webhook URLs are secrets (Slack's carry the only credential), so logs and
error messages show scheme and host only (``redact``).
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from .errors import TransportError, UnsafeDestination

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HttpResult",
    "TransportError",
    "UnsafeDestination",
    "check_url",
    "post",
    "redact",
    "refused_reason",
    "within_allowed_networks",
]

log = logging.getLogger("incidents.notify")

MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "TreeBeard-IR/1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefixes that carry an IPv4 address in their last 32 bits and reach
# it through a gateway (RFC 6052 NAT64); the embedded address is what counts.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


@dataclass(frozen=True)
class HttpResult:
    """What the receiver answered: status, headers (lower-case names) and
    the first ``MAX_RESPONSE_BYTES`` of the body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def text(self, limit: int = 500) -> str:
        return self.body[:limit].decode("utf-8", "replace").strip()


def redact(url: str) -> str:
    """``https://hooks.slack.com/…``: enough to tell destinations apart in a
    log, without the secret path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}/…"


def _parse(url: str) -> SplitResult:
    """Split ``url``; ValueError names what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("The URL is empty.")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url.strip()):
        raise ValueError("The URL must not contain spaces or control characters.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError("The URL must start with https:// (or http://).")
    if not parts.hostname:
        raise ValueError("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise ValueError("The URL must not carry a user name or password.")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("The URL has an invalid port.") from None
    return parts


def _allowed(ip: IPAddress) -> bool:
    return any(ip in network for network in settings.NOTIFY_ALLOWED_NETWORKS)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64)."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _category(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public destination, or None when it is."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", ip.version == 6 and ip.is_site_local),
        # Shared address space (100.64/10), documentation ranges, …
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def refused_reason(ip: IPAddress) -> str | None:
    """Why a connection to ``ip`` is refused, or None when it may be made.

    1. An address inside ``NOTIFY_ALLOWED_NETWORKS`` is allowed (tests and
       on-premises receivers), as is an IPv6 form of an allowed IPv4 address.
    2. An IPv6 address that embeds an IPv4 one (mapped, 6to4, NAT64) is
       judged by the IPv4 address it reaches: NAT64 to 169.254.169.254 is
       the metadata service, NAT64 to a public address is public (DNS64).
    3. Otherwise any non-public category refuses it.
    """
    inner = _embedded_ipv4(ip)
    if _allowed(ip) or (inner is not None and _allowed(inner)):
        return None
    if inner is not None:
        reason = _category(inner)
        return f"{reason} (embedded {inner})" if reason else None
    return _category(ip)


def _resolve(host: str, port: int, *, trusted: bool = False) -> list[tuple]:
    """Every address ``host`` resolves to, each checked (steps 1-3 of
    ``refused_reason``); UnsafeDestination if any one is refused, because a
    resolver may hand out the others in any order. ``trusted`` (a URL the
    operator configured, never one a user typed) skips the check."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TransportError(f"Could not resolve {host}: {exc}") from None
    if not infos:
        raise TransportError(f"Could not resolve {host}: no addresses.")
    for _family, _type, _proto, _name, sockaddr in [] if trusted else infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = refused_reason(ip)
        if reason:
            raise UnsafeDestination(
                f"{host} resolves to {ip}, a {reason} address; "
                "NOTIFY_ALLOWED_NETWORKS does not allow it."
            )
    return infos


def _guarded_socket(
    host: str, port: int, connect_timeout: float, read_timeout: float, trusted: bool = False
):
    """Resolve and check ``host`` now, then connect to a checked address.

    1. ``_resolve`` refuses the host if any of its addresses is refused.
    2. Try the addresses in the resolver's order (as ``create_connection``
       does), connecting to the IP itself: no second lookup can differ.
    3. The connected socket switches to the read timeout.
    """
    last_error: OSError | None = None
    for family, type_, proto, _name, sockaddr in _resolve(host, port, trusted=trusted):
        sock = socket.socket(family, type_, proto)
        try:
            sock.settimeout(connect_timeout)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        sock.settimeout(read_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise last_error or OSError(f"could not connect to {host}")


class _GuardedConnection(http.client.HTTPConnection):
    """HTTP, or HTTPS when ``tls``, to an address ``_guarded_socket`` checked.

    ``http.client`` sends the request and reads the answer; only connecting
    is ours: the socket goes to the checked IP, and TLS (when on) is wrapped
    around it with the certificate checked against the name in the URL.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: bool,
        connect_timeout: float,
        read_timeout: float,
        trusted: bool = False,
    ) -> None:
        # The Host header names the port only when it is not the scheme's own
        # (http.client compares with ``default_port``): "hooks.slack.com", not
        # "hooks.slack.com:443", which receivers that sign or route by Host refuse.
        self.default_port = http.client.HTTPS_PORT if tls else http.client.HTTP_PORT
        super().__init__(host, port, timeout=read_timeout)
        self._tls = ssl.create_default_context() if tls else None
        self._connect_timeout = connect_timeout
        self._trusted = trusted

    def connect(self) -> None:
        sock = _guarded_socket(
            self.host, self.port, self._connect_timeout, self.timeout, self._trusted
        )
        if self._tls is not None:
            # The certificate is checked against the name in the URL, not the IP.
            sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """At most MAX_RESPONSE_BYTES of the body, within the read deadline
    (a receiver dripping a byte at a time must not hold the worker)."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_RESPONSE_BYTES:
        if time.monotonic() > deadline:
            raise TimeoutError("the response body took too long")
        chunk = response.read1(min(8192, MAX_RESPONSE_BYTES - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float | None = None,
    trusted: bool = False,
) -> HttpResult:
    """POST ``body`` to ``url`` through the guard; the receiver's answer.

    1. Parse the URL (http/https only); a bad URL is a permanent error.
    2. Connect through the guarded connection (resolve, check, connect to
       the checked IP); a refused address raises UnsafeDestination.
    3. Send and read the status, headers and at most 64 KiB of body within
       the read timeout (``timeout`` overrides ``NOTIFY_READ_TIMEOUT``).
    4. A 3xx is a permanent error naming where it pointed: redirects are
       not followed. Any other status is returned for the transport to judge.
    5. Timeouts and connection failures are retryable TransportErrors.

    ``trusted`` only for URLs from the operator's settings (the PagerDuty
    Events endpoint): their address is not checked; redirects still are not
    followed.
    """
    try:
        parts = _parse(url)
    except ValueError as exc:
        raise TransportError(f"Invalid destination URL: {exc}", permanent=True) from None
    read_timeout = float(timeout if timeout is not None else settings.NOTIFY_READ_TIMEOUT)
    connect_timeout = min(float(settings.NOTIFY_CONNECT_TIMEOUT), read_timeout)
    tls = parts.scheme == "https"
    # An explicit port: http.client would read the tail of a bare IPv6 host as one.
    port = parts.port or (443 if tls else 80)
    connection = _GuardedConnection(
        parts.hostname,
        port,
        tls=tls,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        trusted=trusted,
    )
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    sent = {"User-Agent": USER_AGENT, "Connection": "close", **headers}
    where = redact(url)
    started = time.monotonic()
    try:
        connection.request("POST", target, body=body, headers=sent)
        response = connection.getresponse()
        data = _read_capped(response, started + connect_timeout + read_timeout)
        result = HttpResult(
            status=response.status,
            headers={k.lower(): v for k, v in response.getheaders()},
            body=data,
        )
    except UnsafeDestination:
        log.warning("POST %s refused: unsafe destination", where)
        raise
    except TransportError:
        raise
    except (http.client.InvalidURL, UnicodeEncodeError) as exc:
        # Control characters or non-ASCII in the path: the URL itself is wrong.
        raise TransportError(f"Invalid destination URL: {exc}", permanent=True) from None
    except TimeoutError as exc:
        log.info("POST %s timed out after %.1f s", where, time.monotonic() - started)
        raise TransportError(f"{where} timed out: {exc or 'no answer'}") from None
    except (OSError, http.client.HTTPException) as exc:
        log.info("POST %s failed: %s", where, type(exc).__name__)
        raise TransportError(f"{where} could not be reached: {exc!r}") from None
    finally:
        connection.close()
    log.info("POST %s -> %s in %.0f ms", where, result.status, (time.monotonic() - started) * 1000)
    if 300 <= result.status < 400:
        location = result.headers.get("location", "")
        raise TransportError(
            f"{where} answered {result.status} redirecting to "
            f"{redact(location) if location else 'nowhere'}; redirects are not followed, "
            "set the final URL instead.",
            permanent=True,
            status_code=result.status,
        )
    return result


def check_url(url: str) -> None:
    """Validate a destination when it is saved (API, admin).

    1. ValueError for a malformed URL, another scheme or credentials in it.
    2. ValueError when the host cannot be resolved now ("could not resolve"),
       since a typo would otherwise only show at the first incident.
    3. UnsafeDestination when the host, literal or resolved, is refused.
    The check is repeated at every connection: a name that resolves safely
    today may not tomorrow.
    """
    parts = _parse(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _resolve(parts.hostname, port)
    except UnsafeDestination:
        raise
    except TransportError:
        raise ValueError(f"Could not resolve the host {parts.hostname}.") from None


def within_allowed_networks(host: str) -> bool:
    """True when every address of ``host`` lies inside NOTIFY_ALLOWED_NETWORKS.

    Secrets travel in webhook URLs, so plain ``http://`` is accepted only for
    receivers the operator named as local (tests, on-premises relays)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    return bool(addresses) and all(_allowed(ip) for ip in addresses)
