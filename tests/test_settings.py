"""Settings from the environment (STYLE.md 8: strict about bad values).

The readers in treebeard_ir.env are tested directly; start-up itself is
tested in a fresh interpreter, since settings are read once per process."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from treebeard_ir.env import (
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_networks,
    env_str,
    env_url,
)

ROOT = Path(__file__).resolve().parent.parent

# --- booleans -----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " true "])
def test_true_spellings_are_true(raw):
    assert env_bool("DEBUG", False, environ={"DEBUG": raw}) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "Off"])
def test_false_spellings_are_false(raw):
    assert env_bool("DEBUG", True, environ={"DEBUG": raw}) is False


@pytest.mark.parametrize("default", [True, False])
def test_an_unset_or_empty_boolean_takes_its_default(default):
    assert env_bool("SECURE_SSL_REDIRECT", default, environ={}) is default
    assert env_bool("SECURE_SSL_REDIRECT", default, environ={"SECURE_SSL_REDIRECT": ""}) is default
    assert env_bool("SECURE_SSL_REDIRECT", default, environ={"SECURE_SSL_REDIRECT": " "}) is default


# --- strings, numbers, lists ------------------------------------------------------


def test_strings_are_stripped_and_empty_means_default():
    assert env_str("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": " debug "}) == "debug"
    assert env_str("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": ""}) == "INFO"


def test_whole_numbers_are_parsed():
    assert env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": " 587 "}) == 587
    assert env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": ""}) == 25
    assert env_int("EMAIL_PORT", 25, environ={}) == 25


def test_lists_are_comma_separated_and_trimmed():
    assert env_list("ALLOWED_HOSTS", ["x"], environ={"ALLOWED_HOSTS": " a.com, b.com ,,"}) == [
        "a.com",
        "b.com",
    ]
    assert env_list("ALLOWED_HOSTS", ["x"], environ={}) == ["x"]


# --- URLs ---------------------------------------------------------------------


def test_urls_with_an_allowed_scheme_are_accepted():
    assert (
        env_url(
            "SITE_URL",
            "http://localhost",
            schemes=("http", "https"),
            environ={"SITE_URL": "https://ir.example.com/"},
        )
        == "https://ir.example.com/"
    )
    assert (
        env_url("SITE_URL", "http://localhost:8000", schemes=("http", "https"), environ={})
        == "http://localhost:8000"
    )


# --- networks -----------------------------------------------------------------


def test_allowed_networks_are_parsed_as_cidrs():
    networks = env_networks(
        "NOTIFY_ALLOWED_NETWORKS",
        environ={"NOTIFY_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.7, fd00::/8"},
    )

    assert networks == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.7/32"),
        ipaddress.ip_network("fd00::/8"),
    ]
    assert env_networks("NOTIFY_ALLOWED_NETWORKS", environ={}) == []


# --- email --------------------------------------------------------------------


def test_email_url_with_starttls_and_escaped_credentials():
    config = email_from_url(
        "EMAIL_URL",
        environ={"EMAIL_URL": "smtp://ir%40example.com:p%3Ass@mail.example.com:587?tls=true"},
    )

    assert config == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "ir@example.com",
        "EMAIL_HOST_PASSWORD": "p:ss",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }


@pytest.mark.parametrize(
    ("raw", "port", "ssl", "tls"),
    [
        ("smtp://mail.example.com", 25, False, False),
        ("smtps://mail.example.com", 465, True, False),
        ("submission://mail.example.com", 587, False, True),
        ("submission://mail.example.com?tls=false", 587, False, False),
    ],
)
def test_email_url_schemes_choose_port_and_encryption(raw, port, ssl, tls):
    config = email_from_url("EMAIL_URL", environ={"EMAIL_URL": raw})

    assert (config["EMAIL_PORT"], config["EMAIL_USE_SSL"], config["EMAIL_USE_TLS"]) == (
        port,
        ssl,
        tls,
    )


@pytest.mark.parametrize(
    ("raw", "backend"),
    [("console://", "console"), ("locmem://", "locmem"), ("dummy://", "dummy")],
)
def test_email_url_local_backends(raw, backend):
    config = email_from_url("EMAIL_URL", environ={"EMAIL_URL": raw})

    assert config == {"EMAIL_BACKEND": f"django.core.mail.backends.{backend}.EmailBackend"}


def test_no_email_url_means_the_email_variables_apply():
    assert email_from_url("EMAIL_URL", environ={}) is None
    assert email_from_url("EMAIL_URL", environ={"EMAIL_URL": "  "}) is None


# --- database -----------------------------------------------------------------


def test_a_postgres_url_configures_psycopg():
    config = database_from_url(
        "DATABASE_URL", "", environ={"DATABASE_URL": "postgres://ir:secret@db:5433/treebeard"}
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "treebeard",
        "ir",
        "secret",
        "db",
        5433,
    )
    assert config["CONN_HEALTH_CHECKS"] is True


def test_the_default_database_is_a_sqlite_file(tmp_path):
    config = database_from_url("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}", environ={})

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


# --- what a reader refuses -------------------------------------------------------

# Each reader as a setting calls it, a value it refuses, and what the error
# says: always the variable, so the operator knows which one to fix.
read_debug = partial(env_bool, "DEBUG", False)
read_timeout = partial(env_int, "EMAIL_TIMEOUT", 10, minimum=1)
read_site = partial(env_url, "SITE_URL", "http://localhost", schemes=("http", "https"))
read_networks = partial(env_networks, "NOTIFY_ALLOWED_NETWORKS")
read_email = partial(email_from_url, "EMAIL_URL")
read_database = partial(database_from_url, "DATABASE_URL", "")
NOT_A_CIDR = r"NOTIFY_ALLOWED_NETWORKS: .* is not a CIDR"
ONLY_POSTGRES = r"DATABASE_URL=.*only postgres://"
REFUSALS = [
    *(
        (read_debug, raw, f"DEBUG={raw!r} is not a boolean")
        for raw in ["flase", "maybe", "2", "y", "enabled"]
    ),
    (read_timeout, "ten", "EMAIL_TIMEOUT='ten' is not a whole number"),
    (read_timeout, "1.5", "is not a whole number"),
    (read_timeout, "0", "EMAIL_TIMEOUT='0' must be at least 1"),
    (
        read_site,
        "ftp://x",
        "SITE_URL='ftp://x' is not a valid URL; it must start with one of http://",
    ),
    (read_site, "ir.example.com", "is not a valid URL"),
    (read_site, "https://", "is not a valid URL"),
    (read_site, "https:///path-only", "has no host name"),
    (read_networks, "nonsense", NOT_A_CIDR),
    (read_networks, "10.0.0.0/8,300.1.1.1", NOT_A_CIDR),
    (read_networks, "10.0.0.0/33", NOT_A_CIDR),
    (
        read_email,
        "http://mail.example.com",
        "EMAIL_URL='http://mail.example.com' is not an email URL",
    ),
    (read_email, "smtp://", "is not an email URL"),
    (read_email, "smtp://mail.example.com:smtp", "has an invalid port"),
    (read_email, "smtp://mail.example.com?tls=perhaps", "tls='perhaps' is not a boolean"),
    (read_database, "mysql://u@h/db", ONLY_POSTGRES),
    (read_database, "oracle://u@h/db", ONLY_POSTGRES),
    (read_database, "redis://localhost", ONLY_POSTGRES),
]


@pytest.mark.parametrize(
    ("read", "raw", "match"), REFUSALS, ids=[f"{r.args[0]}={raw}" for r, raw, _ in REFUSALS]
)
def test_a_value_a_reader_refuses_is_an_error_naming_the_variable(read, raw, match):
    with pytest.raises(ImproperlyConfigured, match=match):
        read(environ={read.args[0]: raw})


# --- start-up in a fresh process ------------------------------------------------


def clean_env(tmp_path, **env: str) -> dict[str, str]:
    """A fresh process environment: only what a deployment would set, not
    whatever this test process (or another test in it) has put in os.environ."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL") if k in os.environ}
    base.update(DJANGO_SETTINGS_MODULE="treebeard_ir.settings", TREEBEARD_VAR_DIR=str(tmp_path))
    base.update(env)
    return base


def run_python(tmp_path, code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return run_python(tmp_path, "import django; django.setup()", **env)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("SITE_URL", "ftp://x"),
        ("NOTIFY_ALLOWED_NETWORKS", "nonsense"),
        ("DATABASE_URL", "mysql://x"),
        ("EMAIL_URL", "http://mail"),
        ("EMAIL_PORT", "twenty-five"),
        ("SECRET_KEY", "too-short"),
        ("STATUS_PAGE_HOST", "https://status.example.com/"),
        # The SLA engine.
        ("BUSINESS_TIME_ZONE", "Nowhere/City"),
        ("BUSINESS_HOURS_START", "nine"),
        ("BUSINESS_HOURS_END", "08:00"),  # before the default start
        ("BUSINESS_DAYS", "1,2,9"),
        ("BUSINESS_HOLIDAYS", "2026-02-30"),
        ("DIGEST_TIME", "25:00"),
        ("SLA_SWEEP_SECONDS", "0"),
        ("ENGINE_STALL_SECONDS", "soon"),
        # Sign-in and password-reset throttling.
        ("AXES_ENABLED", "maybe"),
        ("AXES_FAILURE_LIMIT", "0"),
        ("AXES_FAILURE_LIMIT", "five"),
        ("AXES_COOLOFF_MINUTES", "0"),
        ("AXES_COOLOFF_MINUTES", "15m"),
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("PASSWORD_RESET_MAX_PER_HOUR", "0"),
    ],
)
def test_start_up_stops_on_a_bad_value_naming_the_variable(tmp_path, variable, value):
    result = start(tmp_path, **{variable: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_start_up_succeeds_with_the_defaults(tmp_path):
    result = start(tmp_path)

    assert result.returncode == 0, result.stderr


def settings_of(tmp_path, **env: str) -> dict:
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in ('DEBUG', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
        "'SECURE_PROXY_SSL_HEADER', 'CSRF_TRUSTED_ORIGINS', 'ALLOWED_HOSTS')}))"
    )
    result = run_python(tmp_path, code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_https_site_url_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path):
    config = settings_of(
        tmp_path,
        SITE_URL="https://ir.example.com",
        ALLOWED_HOSTS="ir.example.com",
        SECURE_SSL_REDIRECT="",
    )

    assert config["SESSION_COOKIE_SECURE"] is config["CSRF_COOKIE_SECURE"] is True
    assert config["SECURE_SSL_REDIRECT"] is True
    assert config["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert config["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert config["CSRF_TRUSTED_ORIGINS"] == ["https://ir.example.com"]
    # The status page host is always served.
    assert config["ALLOWED_HOSTS"] == ["ir.example.com", "status.treebeard.com"]


def test_an_http_site_url_leaves_them_off_for_local_use(tmp_path):
    config = settings_of(tmp_path, SITE_URL="http://localhost:8000")

    assert config["SESSION_COOKIE_SECURE"] is config["SECURE_SSL_REDIRECT"] is False
    assert config["SECURE_HSTS_SECONDS"] == 0
    assert config["SECURE_PROXY_SSL_HEADER"] is None


def deploy_check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SITE_URL": "https://ir.example.com",
        "ALLOWED_HOSTS": "ir.example.com",
    }
    # A production deployment runs on PostgreSQL and Redis, like this test run.
    production.update({k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if k in os.environ})
    production.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(tmp_path, **production),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_correctly_configured_production_deployment_passes_the_deploy_check(tmp_path):
    result = deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_with_debug_on(tmp_path):
    result = deploy_check(tmp_path, DEBUG="true")

    assert result.returncode != 0
    assert "security.W018" in result.stderr + result.stdout
