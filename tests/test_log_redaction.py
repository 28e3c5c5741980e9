"""Secrets in URLs stay out of the logs: gunicorn's access and error log (a
real gunicorn started with the shipped ``gunicorn.conf.py``) and Django's
request logs through the LOGGING of settings.py."""

from __future__ import annotations

import http.client
import io
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.views.debug import get_exception_reporter_class

from incidents import ack_links
from incidents.models import Schedule
from incidents.services.integrations import integration_create
from tests import factories
from tests.worker_support import BIN, ROOT, process_env, spare_port
from treebeard_ir.redact import RedactSecretsFilter, redact_path

INTEGRATION_TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ACK_TOKEN = "eyJpIjoxLCJ1IjoyfQ:1tQk3x:SEKRETackSignature0123"
FEED_TOKEN = "SEKRETfeed_Zm9vYmFyYmF6cXV4"
QUERY_TOKEN = "SEKRETquery0123456789"
BEARER = "Token tb_SEKRETbearer0123456789"


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        (
            f"POST /api/v1/integrations/{INTEGRATION_TOKEN}/alertmanager/ HTTP/1.1",
            "POST /api/v1/integrations/0a1b2c…/alertmanager/ HTTP/1.1",
        ),
        (f"Not Found: /ack/{ACK_TOKEN}/", "Not Found: /ack/[redacted]/"),
        (f"https://ir.example/ack/{ACK_TOKEN}/", "https://ir.example/ack/[redacted]/"),
        (
            f"/oncall/{FEED_TOKEN}/calendar.ics?user=bob",
            "/oncall/[redacted]/calendar.ics?user=bob",
        ),
        ("/accounts/reset/MQ/cabc12-0a1b2c3d4e5f/", "/accounts/reset/MQ/[redacted]/"),
        (
            f"/api/v1/oncall/?token={QUERY_TOKEN}&api_key=k1&user=bob&author=al",
            "/api/v1/oncall/?token=[redacted]&api_key=[redacted]&user=bob&author=al",
        ),
        # The server decodes these to /ack/<token>/: judged (and logged) decoded.
        (f"/ack%2F{ACK_TOKEN}/", "/ack%2F[redacted]/"),
        (f"/%61ck/{ACK_TOKEN}/", "/ack/[redacted]/"),
    ],
)
def test_redact_path_hides_the_secret_of_each_url_that_carries_one(raw, logged):
    assert redact_path(raw) == logged
    assert redact_path(logged) == logged  # a second pass changes nothing


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/integrations/",
        "/api/v1/integrations/12/",
        "/api/v1/integrations/12/rotate-token/",
        "/api/v1/oncall/?at=2026-11-28T03:00:00Z&schedule=on-call-engineer",
        "/oncall/",
        "/oncall/schedules/3/overrides/",
        "/oncall/overrides/4/remove/",
        "/accounts/reset/MQ/set-password/",
        "/incidents/INC-0042/acknowledge/",
        "/api/v1/incidents/?page=2&q=disk",
    ],
)
def test_redact_path_leaves_paths_without_secrets_alone(path):
    assert redact_path(path) == path


# --- Django's request logs, through the LOGGING of settings.py ---------------


@pytest.fixture
def console_log():
    """What the root ``console`` handler of settings.LOGGING writes."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_django_request_warnings_log_ack_feed_and_ingest_paths_redacted(
    client, bob, console_log, caplog
):
    incident = factories.declare(actor=bob)
    tampered = ack_links.token_for(incident, bob) + "x"
    schedule = Schedule.objects.create(name="Primary", slug="primary")
    _, key = integration_create(actor=None, name="Grafana", kind="generic")

    assert client.get(f"/ack/{tampered}/").status_code == 404
    feed = reverse("incidents:oncall-calendar", kwargs={"feed_token": schedule.feed_token})
    assert client.get(feed, {"user": "nobody"}).status_code == 404
    ingest = f"/api/v1/integrations/{key}/generic/"
    assert client.post(ingest, "[", content_type="application/json").status_code == 400

    written = console_log.getvalue()
    seen_by_any_handler = "\n".join(r.getMessage() for r in caplog.records)
    for text in (written, seen_by_any_handler):
        assert "Not Found: /ack/[redacted]/" in text
        assert "Not Found: /oncall/[redacted]/calendar.ics" in text
        assert f"Bad Request: /api/v1/integrations/{key[:6]}…/generic/" in text
        for secret in (tampered, schedule.feed_token, key):
            assert secret not in text


def test_a_logged_traceback_is_redacted_too(console_log):
    try:
        raise RuntimeError(f"could not open /oncall/{FEED_TOKEN}/calendar.ics")
    except RuntimeError:
        logging.getLogger("incidents.feeds").exception("feed for /ack/%s/ failed", ACK_TOKEN)

    written = console_log.getvalue()
    assert "feed for /ack/[redacted]/ failed" in written
    assert "RuntimeError: could not open /oncall/[redacted]/calendar.ics" in written
    assert FEED_TOKEN not in written and ACK_TOKEN not in written


# --- gunicorn, as shipped -----------------------------------------------------


def _request(port: int, method: str, target: str, headers: dict | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = b"{}" if method == "POST" else None
        sent = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def gunicorn_server(db):
    """``gunicorn -c gunicorn.conf.py treebeard_ir.wsgi:application`` on a spare
    port against the test database; yields (port, read_log)."""
    port = spare_port()
    env = process_env(
        BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", WEB_THREADS="2", ACCESS_LOG="-"
    )
    # Every atom a format could print, besides the shipped combined format.
    fmt = '%(h)s "%(r)s" %(s)s "%(f)s" U=%(U)s q=%(q)s auth=%({authorization}i)s'
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "gunicorn.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "-c",
                    "gunicorn.conf.py",
                    "--access-logformat",
                    fmt,
                    "treebeard_ir.wsgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if _request(port, "GET", "/healthz") == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.2)

            def read_log() -> str:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
                return log_path.read_text(errors="replace")

            yield port, read_log
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def test_gunicorn_access_and_error_logs_never_show_a_url_secret(gunicorn_server):
    port, read_log = gunicorn_server
    referer = f"http://127.0.0.1:{port}/ack/{ACK_TOKEN}/"

    answers = [
        _request(port, "POST", f"/api/v1/integrations/{INTEGRATION_TOKEN}/alertmanager/"),
        _request(port, "GET", f"/ack/{ACK_TOKEN}/"),
        _request(port, "GET", f"/ack%2F{ACK_TOKEN}/"),
        _request(port, "GET", f"/oncall/{FEED_TOKEN}/calendar.ics?user=bob"),
        _request(port, "GET", "/healthz", {"Referer": referer}),
        _request(port, "GET", f"/api/v1/oncall/?token={QUERY_TOKEN}", {"Authorization": BEARER}),
    ]
    log = read_log()

    assert answers[:4] == [404, 404, 404, 404]
    for secret in (INTEGRATION_TOKEN, ACK_TOKEN, FEED_TOKEN, QUERY_TOKEN, "SEKRET"):
        assert secret not in log, log
    assert '"POST /api/v1/integrations/0a1b2c…/alertmanager/ HTTP/1.1" 404' in log
    assert "U=/api/v1/integrations/0a1b2c…/alertmanager/" in log
    assert '"GET /ack/[redacted]/ HTTP/1.1" 404' in log
    assert '"GET /ack%2F[redacted]/ HTTP/1.1" 404' in log
    assert '"GET /oncall/[redacted]/calendar.ics?user=bob HTTP/1.1" 404' in log
    assert f'"GET /healthz HTTP/1.1" 200 "http://127.0.0.1:{port}/ack/[redacted]/"' in log
    assert "q=token=[redacted] auth=[redacted]" in log
    # Django's own warning, written by the worker through settings.LOGGING.
    assert "Not Found: /ack/[redacted]/" in log


def test_gunicorn_error_log_redacts_the_uri_of_a_request_that_crashed(capsys):
    from gunicorn.config import Config

    from treebeard_ir.gunicorn_logging import RedactingLogger

    log = RedactingLogger(Config())  # errorlog "-": stderr
    try:
        raise ValueError(f"bad calendar /oncall/{FEED_TOKEN}/calendar.ics")
    except ValueError:
        # What gunicorn's workers write when the application raises.
        log.exception("Error handling request %s", f"/ack/{ACK_TOKEN}/")

    written = capsys.readouterr().err
    assert "Error handling request /ack/[redacted]/" in written
    assert "bad calendar /oncall/[redacted]/calendar.ics" in written
    assert ACK_TOKEN not in written and FEED_TOKEN not in written


def test_gunicorn_conf_refuses_a_malformed_thread_count_naming_it():
    env = {**os.environ, "WEB_THREADS": "two"}
    checked = subprocess.run(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--check-config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert checked.returncode != 0
    assert "WEB_THREADS must be a whole number of at least 1, not 'two'" in (
        checked.stdout + checked.stderr
    )


def test_procfile_dockerfile_and_compose_serve_with_gunicorn_conf():
    command = "gunicorn -c gunicorn.conf.py treebeard_ir.wsgi:application"
    assert command in (ROOT / "Procfile").read_text()
    assert command in (ROOT / "docker-compose.yml").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert (
        'CMD ["gunicorn", "-c", "gunicorn.conf.py", "treebeard_ir.wsgi:application"]' in dockerfile
    )
    assert "gunicorn.conf.py ./" in dockerfile  # copied into the image


# --- error reports (DEBUG page, ADMINS e-mail) --------------------------------


def _crash_in_view(token: str, feed_token: str) -> None:
    raise RuntimeError("view failed")


def test_the_error_mail_to_admins_hides_url_secrets_variables_and_typed_secrets(
    rf, settings, mailoutbox
):
    settings.ADMINS = [("Ops", "ops@treebeard.test")]
    # Made at run time: the HTML report quotes the source lines around a frame
    # (and the frame's variables: this one is starred for its name).
    new_secret = "receiver-side-" + "0123456789abcdef" * 2
    request = rf.post(
        f"/ack/{ACK_TOKEN}/?token={QUERY_TOKEN}",
        {"new_secret": new_secret, "note": "kept"},
        HTTP_REFERER=f"https://mail.example/read?u=/oncall/{FEED_TOKEN}/calendar.ics",
    )
    try:
        _crash_in_view(ACK_TOKEN, FEED_TOKEN)
    except RuntimeError:
        # What django.core.handlers logs for a 500, through settings.LOGGING.
        logging.getLogger("django.request").error(
            "Internal Server Error: %s",
            request.path,
            exc_info=True,
            extra={"status_code": 500, "request": request},
        )
        # The DEBUG page is the same report as HTML.
        html = get_exception_reporter_class(request)(request, *sys.exc_info()).get_traceback_html()

    (mail,) = mailoutbox
    assert "_crash_in_view" in mail.body and "_crash_in_view" in html
    for text in (mail.subject, mail.body, html):
        for secret in (ACK_TOKEN, FEED_TOKEN, QUERY_TOKEN, new_secret):
            assert secret not in text
    assert "Internal Server Error: /ack/[redacted]/" in mail.subject
    assert "Request URL: http://testserver/ack/[redacted]/?token=[redacted]" in mail.body
    assert "kept" in mail.body  # other fields are still reported
