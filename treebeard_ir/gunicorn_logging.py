"""gunicorn's logger with our URL secrets redacted (``gunicorn.conf.py``).

gunicorn writes the request line (``%(r)s``), path (``%(U)s``), query
(``%(q)s``), Referer (``%(f)s``) and any ``%({header}i)s`` /
``%({variable}e)s`` atom verbatim, and its error log names the URI of a
request that crashed. Both loggers get ``RedactSecretsFilter``, so every
atom, whatever ``access_log_format`` an operator picks, passes through
``treebeard_ir.redact.redact_path``; credential headers are never printed.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .redact import REDACTED, RedactSecretsFilter, redact_query

# Header atoms whose whole value is a credential (API tokens, session cookies).
_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key")
_SECRET_ATOMS = frozenset(
    [f"{{{name}}}i" for name in _SECRET_HEADERS]
    + [f"{{{name}}}o" for name in _SECRET_HEADERS]
    + [
        "{http_authorization}e",
        "{http_proxy_authorization}e",
        "{http_cookie}e",
        "{http_x_api_key}e",
    ]
)


class RedactingLogger(Logger):
    """``logger_class`` for gunicorn: access and error lines without secrets."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # On the loggers, not their handlers: gunicorn replaces handlers when
        # it reopens log files (USR1) or reloads its configuration.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _SECRET_ATOMS.intersection(atoms):
            atoms[key] = REDACTED
        # A bare query string has no "?" for redact_path to recognise.
        for key in ("q", "{query_string}e"):
            if atoms.get(key):
                atoms[key] = redact_query(atoms[key])
        return atoms


__all__ = ["RedactingLogger"]
