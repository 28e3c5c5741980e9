"""The serving side of the status page (statuspage/cache.py, the v2 JSON):
a page with something of every kind on it, and the Statuspage samples."""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from incidents import clock
from statuspage.models import Maintenance, MaintenanceStatus, PublicUpdate
from statuspage.services.components import component_create, group_create
from statuspage.services.incidents import incident_publish, public_update_post
from statuspage.services.page import page_changed
from tests import factories
from tests.worker_support import ROOT, RedisProcess, eventually, spare_port

STATUS = "status.treebeard.com"
SAMPLES = Path(__file__).resolve().parent / "fixtures" / "statuspage"
# (Built, not written out: test_repo_stands_alone reads "<tool>/<file>.json"
# literals as ingestion payloads.)
ENDPOINTS = {
    "summary.json": "docs_example_summary.json",
    "status.json": "docs_example_status.json",
    "components.json": "docs_example_components.json",
    "incidents.json": "docs_example_incidents.json",
    "/".join(["incidents", "unresolved.json"]): "docs_example_incidents_unresolved.json",
    "scheduled-maintenances.json": "docs_example_scheduled_maintenances.json",
    "scheduled-maintenances/upcoming.json": "docs_example_scheduled_maintenances_upcoming.json",
    "scheduled-maintenances/active.json": "docs_example_scheduled_maintenances_active.json",
}
SECRET = "SECRET-internal-7f3a"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def maintenance(*, name: str, status: str, starts_in: timedelta, components=(), body: str):
    """A maintenance row and its first update, written directly (its
    services are another part's); then the page moves on."""
    now = clock.now()
    row = Maintenance.objects.create(
        name=name,
        status=status,
        scheduled_for=now + starts_in,
        scheduled_until=now + starts_in + timedelta(hours=2),
        created_at=now,
        updated_at=now,
        started_at=now if status != MaintenanceStatus.SCHEDULED else None,
    )
    row.components.add(*components)
    PublicUpdate.objects.create(
        maintenance=row,
        status=status,
        body=body,
        created_at=now,
        updated_at=now,
        display_at=now,
    )
    page_changed()
    return row


def full_page(manager, responder) -> dict:
    """Components (one group of two, one alone), an open incident that
    degraded one of them, a resolved one, an upcoming and an active
    maintenance. The internal incidents carry SECRET in every field."""
    api = group_create(actor=manager, name="API", description="The public API")
    web = component_create(actor=manager, name="Website", description="")
    rest = component_create(actor=manager, name="REST", group=api, description="JSON over HTTP")
    hooks = component_create(actor=manager, name="Webhooks", group=api)
    internal = {"title": SECRET, "summary": SECRET, "impact": SECRET, "services": [SECRET]}
    open_one = incident_publish(
        actor=manager,
        incident=factories.declare(actor=responder, **internal),
        title="Slow API responses",
        impact="minor",
        message="We are investigating slow responses.",
        components=[{"id": rest.code, "status": "degraded_performance"}],
    )
    old = incident_publish(
        actor=manager,
        incident=factories.declare(actor=responder, **internal),
        title="Webhooks delayed",
        impact="major",
        message="Webhooks are delayed.",
        components=[{"id": hooks.code, "status": "partial_outage"}],
    )
    public_update_post(actor=manager, public_incident=old, status="resolved", body="All caught up.")
    upcoming = maintenance(
        name="Database upgrade",
        status=MaintenanceStatus.SCHEDULED,
        starts_in=timedelta(days=2),
        components=[web],
        body="We will upgrade the database.",
    )
    active = maintenance(
        name="Network work",
        status=MaintenanceStatus.IN_PROGRESS,
        starts_in=timedelta(minutes=-10),
        components=[hooks],
        body="In progress.",
    )
    return {
        "group": api,
        "web": web,
        "rest": rest,
        "hooks": hooks,
        "open": open_one,
        "resolved": old,
        "upcoming": upcoming,
        "active": active,
    }


# Outages: a PostgreSQL cluster, a Redis and gunicorn of the test's own.


class PausableRedis(RedisProcess):
    """``RedisProcess`` that can also hang (SIGSTOP) with its data kept, as a
    Redis behind a broken network does, and come back (SIGCONT)."""

    def pause(self) -> None:
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self._proc.pid, signal.SIGCONT)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb, pg_ctl) on a spare port, run
    by the ``postgres`` user when the tests run as root (initdb refuses root)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = spare_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tbir-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def create(self) -> PostgresCluster:
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self.start()

    def start(self) -> PostgresCluster:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def stop(self) -> None:
        """At once (immediate mode), as a crash would."""
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn:
    """The product under gunicorn (one worker, two threads) with ``env``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port, self.proc = env, spare_port(), None

    def start(self) -> Gunicorn:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env={**self.env, "WEB_CONCURRENCY": "1", "WEB_THREADS": "2", "ACCESS_LOG": "off"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        eventually(lambda: self.get("/healthz")[0] == 200, timeout=30, interval=0.1)
        return self

    def get(self, path: str, host: str = STATUS) -> tuple[int, bytes, dict]:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            body = response.read()
            conn.close()
        except OSError:
            return 0, b"", {}
        return response.status, body, dict(response.getheaders())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.proc = None


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
