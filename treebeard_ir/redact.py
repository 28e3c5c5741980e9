"""Secrets that travel in URLs are kept out of every log line.

Four of our URLs carry a credential in the path, because the caller cannot
send a header: a monitoring tool's integration token
(``/api/v1/integrations/<token>/<kind>/``), the signed one-click acknowledge
link of a paging email (``/ack/<token>/``), a schedule's calendar feed
(``/oncall/<feed_token>/calendar.ics``) and Django's password-reset link
(``/accounts/reset/<uid>/<token>/``). Query parameters whose name ends in
token, key, secret, password, signature or auth are credentials too.

``redact_path`` is the one function that hides them. It is used by
``RedactSecretsFilter`` (installed on Django's log handlers and loggers in
``settings.LOGGING``) and by gunicorn's access and error logs
(``treebeard_ir.gunicorn_logging``), so the request line, the Referer (an ack
link opened from a web mail carries it) and Django's "Not Found: /ack/…"
warnings all read the same.

An integration token keeps its first six characters, the ``token_prefix``
the admin lists, so an operator can still tell which integration is posting;
every other secret becomes ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

REDACTED = "[redacted]"
INTEGRATION_PREFIX = 6  # incidents.services.integrations stores key[:6] as Integration.token_prefix

# A path separator as it may appear in a raw request line: gunicorn decodes
# ``%2F`` into PATH_INFO, so ``/ack%2F<token>/`` reaches the same view.
_SEP = r"(?:/|%2[Ff])"
# One path segment (up to the next separator, query, fragment, quote or space).
_SEGMENT = r"(?:(?!%2[Ff])[^/?#\s\"'<>])+"

_INTEGRATION = re.compile(
    # Numeric ids (``/integrations/12/rotate-token/``) are the management API.
    rf"(?P<lead>/api{_SEP}v1{_SEP}integrations{_SEP})(?!\d+(?:{_SEP}|[?#\s\"']|$))"
    rf"(?P<secret>{_SEGMENT})"
)
_ACK = re.compile(rf"(?P<lead>/ack{_SEP})(?P<secret>{_SEGMENT})")
_FEED = re.compile(
    # ``/oncall/schedules/…`` and ``/oncall/overrides/…`` are dashboard pages.
    rf"(?P<lead>/oncall{_SEP})(?!(?:schedules|overrides){_SEP})(?P<secret>{_SEGMENT})(?={_SEP})"
)
_RESET = re.compile(
    rf"(?P<lead>/reset{_SEP}{_SEGMENT}{_SEP})(?!set-password(?:{_SEP}|[?#\s\"']|$))"
    rf"(?P<secret>{_SEGMENT})"
)
_QUERY = re.compile(
    # Parameter names ending in one of these: token, api_key, routing_key, auth…
    r"(?P<lead>[?&;][^&=;#\s\"']*?"
    r"(?:token|key|secret|password|passwd|pwd|signature|sig|auth)=)"
    r"(?P<secret>[^&;#\s\"']+)",
    re.IGNORECASE,
)

# Most lines hold none of these: one scan instead of five (every access line).
_MAYBE = re.compile(r"/ack|/oncall|/integrations|/reset|=|%")


def _hidden(match: re.Match) -> str:
    return match["lead"] + REDACTED


def _integration(match: re.Match) -> str:
    secret = match["secret"]
    if len(secret) <= INTEGRATION_PREFIX:
        return match["lead"] + REDACTED
    return f"{match['lead']}{secret[:INTEGRATION_PREFIX]}…"


def _redact(text: str) -> str:
    text = _INTEGRATION.sub(_integration, text)
    for pattern in (_ACK, _FEED, _RESET, _QUERY):
        text = pattern.sub(_hidden, text)
    return text


def redact_path(text: str) -> str:
    """``text`` (a path, a URL, a request line or any log message holding
    them) with the secrets of our URLs replaced.

    A percent-encoded request (``/%61ck/<token>/`` is ``/ack/<token>/`` to
    the server) is judged decoded, and logged decoded when that hides more.
    """
    if not text or not _MAYBE.search(text):
        return text
    redacted = _redact(text)
    if "%" in redacted:
        decoded = unquote(redacted, errors="replace")
        hidden = _redact(decoded)
        if hidden != decoded:
            return hidden
    return redacted


def redact_query(query: str) -> str:
    """A bare query string (``token=…&user=bob``, without the ``?``) redacted."""
    return redact_path("?" + query)[1:] if query else query


class RedactSecretsFilter(logging.Filter):
    """Rewrite a record's message (and traceback text) through ``redact_path``.

    Installed on handlers, it sees every record that reaches them, whichever
    logger wrote it; it never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the formatter's to report
            return True
        hidden = redact_path(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_path(record.exc_text)
        return True
