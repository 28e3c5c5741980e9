"""gunicorn settings for TreeBeard IR (the Procfile, Dockerfile and compose use
``gunicorn -c gunicorn.conf.py``; gunicorn also reads this file by default
from the working directory).

The access log goes to stdout through ``RedactingLogger``: integration, ack
link, calendar-feed and password-reset tokens in the request line and the
Referer are redacted there, as Django's own logs redact them
(``treebeard_ir/redact.py``).

Environment (a malformed number stops start-up naming the variable):
``BIND`` (``127.0.0.1:8000``), ``WEB_CONCURRENCY`` worker processes (2),
``WEB_THREADS`` threads per worker (4), ``ACCESS_LOG`` (``-`` = stdout, a
file path, or ``off``), ``LOG_LEVEL`` (``info``). ``FORWARDED_ALLOW_IPS`` is
gunicorn's own and defaults to loopback: only a proxy on this host may set
``X-Forwarded-*``; never widen it to ``*`` on a host reachable from outside.
"""

import os


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}.")
    return value


wsgi_app = "treebeard_ir.wsgi:application"
bind = [os.environ.get("BIND", "").strip() or "127.0.0.1:8000"]
workers = _count("WEB_CONCURRENCY", 2)
threads = _count("WEB_THREADS", 4)

_access_log = os.environ.get("ACCESS_LOG", "").strip() or "-"
accesslog = None if _access_log.lower() == "off" else _access_log
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "").strip().lower() or "info"
logger_class = "treebeard_ir.gunicorn_logging.RedactingLogger"
# gunicorn >= 25.1 opens a control socket at one path per user ($HOME/.gunicorn):
# several servers on a host would take it from each other, and nothing here uses it.
control_socket_disable = True
