"""Shared fixtures: alice (manager), bob (responder), vera (viewer) and
charlie (signed in, no group), after healthchecks' alice/bob/charlie.

The suite runs on PostgreSQL and Redis (tests/settings.py): ``pytest`` alone
stops at once, saying what to start, when either is down. Every test starts
with its own process's cache key space empty, so counters (rate limits,
throttles, the sweep's heartbeat) never carry over from another test or
from the other pytest-xdist worker.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import datetime, timedelta

import pytest

from incidents import clock, services
from incidents.engine import sla
from incidents.models import EscalationPolicy, Integration
from incidents.services.integrations import integration_create
from tests import factories, oncall_support, preflight
from tests.admin_support import signed_in
from tests.api_support import token_client
from tests.engine_support import MIN, T0, staff_both_paths

HOW_TO_RUN = (
    "Run the suite with `make test` (README.md); without DATABASE_URL and REDIS_URL"
    " it uses PostgreSQL and Redis on 127.0.0.1 (tests/settings.py)."
)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.help or config.option.version:
        return  # the controller of an xdist run has checked already
    found = preflight.problems(os.environ["DATABASE_URL"], os.environ["REDIS_URL"])
    if found:
        pytest.exit(
            "\n".join([*found, HOW_TO_RUN]),
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    from django.conf import settings

    db, cache = settings.DATABASES["default"], settings.CACHES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}"
        f" at {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}",
        f"cache: {cache.get('LOCATION')} keys {cache.get('KEY_PREFIX')}:*",
    ]


@pytest.fixture(autouse=True)
def _own_cache_key_space():
    from django.core.cache import cache

    from statuspage import cache as status_cache

    cache.clear()  # only this process's keys (tests/cache.py)
    # The status page's copies in this process: a test's flushed database
    # starts its page version again at the number the last one reached.
    status_cache.reset()


@pytest.fixture(scope="session", autouse=True)
def _static_root():
    # WhiteNoise warns on every request when STATIC_ROOT is missing (tests
    # serve from the finders, before any collectstatic).
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs ~0.2 s per user made; tests need working logins, not slow hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return factories.manager("alice")


@pytest.fixture
def bob(db):
    return factories.responder("bob")


@pytest.fixture
def vera(db):
    return factories.viewer("vera")


@pytest.fixture
def charlie(db):
    return factories.UserFactory(username="charlie")


@pytest.fixture
def incident(db, bob):
    return factories.declare(actor=bob)


def start_of(request: pytest.FixtureRequest) -> datetime:
    """The test module's ``T0``, or ``engine_support.T0`` (a Wednesday, 10:00 UTC)."""
    return getattr(request.module, "T0", T0)


@pytest.fixture
def frozen(request, time_machine):
    """The clock stopped at the module's T0 (``start_of``); move it with ``move_to``."""
    time_machine.move_to(start_of(request), tick=False)
    return time_machine


@pytest.fixture
def later(frozen):
    """``later(minutes=5)``: the frozen clock moved on; returns the new now."""

    def _move(**delta) -> datetime:
        frozen.shift(timedelta(**delta))
        return clock.now()

    return _move


@pytest.fixture
def at(request, frozen):
    """``at(minutes)``: the clock to T0 + minutes, then one SLA sweep; how many fired."""

    def _sweep(minutes: float) -> int:
        frozen.move_to(start_of(request) + minutes * MIN, tick=False)
        return sla.sweep()

    return _sweep


@pytest.fixture
def signin_limits(settings):
    """The shipped sign-in throttling, whatever the environment of the run says."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


@pytest.fixture
def api(bob):
    """Bob (a responder) at the REST API, with a read and write token."""
    return token_client(bob)


@pytest.fixture
def manager_api(alice):
    """Alice (a manager) at the REST API, with a read and write token."""
    return token_client(alice)


@pytest.fixture
def staffed(db):
    """Someone on call at every level: with nobody, declaring a P1 climbs at
    once to the top and says nobody could be paged (tests/test_paging.py)."""
    staff_both_paths()


@pytest.fixture
def admin_client_for(alice):
    """A test client of its own with alice (a manager) signed in, for the admin."""
    return signed_in(alice)


@pytest.fixture
def client_for(client):
    """``client_for(user)`` → the test client signed in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def prom(db) -> Integration:
    """A generic integration "prom" to record alerts from (``ingest_support.alert``)."""
    return integration_create(actor=None, name="prom", kind="generic")[0]


# On-call (tests/oncall_support.py): a schedule, a rotation, an override.


@pytest.fixture
def primary(alice, bob):
    """The schedule "Primary", made by alice (no rotation yet)."""
    return services.schedule_create(actor=alice, name="Primary")


@pytest.fixture
def weekly(alice, bob, primary):
    """bob then alice, weekly on ``primary`` from on-call's T0."""
    return services.rotation_create(
        actor=alice,
        schedule=primary,
        name="Weekly",
        starts_at=oncall_support.T0,
        members=[bob, alice],
    )


@pytest.fixture
def cover(alice, bob, primary):
    """bob's override on ``primary``, from on-call's START to END."""
    return services.override_add(
        actor=alice,
        schedule=primary,
        user=bob,
        starts_at=oncall_support.START,
        ends_at=oncall_support.END,
    )


@pytest.fixture
def technical():
    """The guide's technical escalation policy (made after every migrate)."""
    return EscalationPolicy.objects.get(path="technical")


@pytest.fixture
def loopback_allowed(settings):
    """Receivers on 127.0.0.1 are allowed (tests send nothing there), and
    only they: a private address such as 10.0.0.1 is still refused."""
    settings.NOTIFY_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.fixture
def http_recorder(settings):
    """A started ``tests.fakes.HttpRecorder``; outbound requests may reach it
    because 127.0.0.1/32 is added to ``NOTIFY_ALLOWED_NETWORKS``."""
    from tests.fakes import HttpRecorder

    loopback = ipaddress.ip_network("127.0.0.1/32")
    allowed = list(settings.NOTIFY_ALLOWED_NETWORKS)
    settings.NOTIFY_ALLOWED_NETWORKS = allowed if loopback in allowed else [*allowed, loopback]
    with HttpRecorder() as recorder:
        yield recorder


@pytest.fixture
def smtp_sink(settings):
    """A started ``tests.fakes.SmtpSink`` that Django's mail now goes to
    (SMTP backend, no TLS, no login); ``.email_url`` is its ``EMAIL_URL`` for
    worker subprocesses."""
    from tests.fakes import SmtpSink

    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        yield sink
