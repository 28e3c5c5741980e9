"""Strict readers for settings that come from the environment.

A malformed value stops start-up with a message that names the variable:
a typo in ``DEBUG=flase`` must not silently mean ``False``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
N = TypeVar("N", int, float)


def _given(name: str, environ: dict | None) -> str | None:
    """The variable's value as written, or None when it is unset or blank.

    Empty means unset for every reader here: ``SECURE_SSL_REDIRECT=`` passed
    through by a compose file must not switch the redirect off."""
    value = (environ if environ is not None else os.environ).get(name)
    return None if value is None or value.strip() == "" else value


def env_str(name: str, default: str, *, environ: dict | None = None) -> str:
    value = _given(name, environ)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool, *, environ: dict | None = None) -> bool:
    value = _given(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int = 0, environ: dict | None = None) -> int:
    return _number(name, default, minimum, environ, parse=int, kind="a whole number")


def env_float(
    name: str, default: float, *, minimum: float = 0.0, environ: dict | None = None
) -> float:
    return _number(name, default, minimum, environ, parse=float, kind="a number")


def _number(
    name: str, default: N, minimum: N, environ: dict | None, *, parse: Callable[[str], N], kind: str
) -> N:
    value = _given(name, environ)
    if value is None:
        return default
    try:
        number = parse(value.strip())
    except ValueError:
        number = None
    if number is None or number != number:  # not a number at all, or NaN
        raise ImproperlyConfigured(f"{name}={value!r} is not {kind}.")
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str], *, environ: dict | None = None) -> list[str]:
    value = _given(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(
    name: str, default: str, *, schemes: tuple[str, ...], environ: dict | None = None
) -> str:
    value = env_str(name, default, environ=environ)
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a valid URL; it must start with one of "
            + ", ".join(f"{s}://" for s in schemes)
        )
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ImproperlyConfigured(f"{name}={value!r} has no host name.")
    return value


def env_networks(
    name: str, *, environ: dict | None = None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in env_list(name, [], environ=environ):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not a CIDR network.") from None
    return networks


def database_from_url(name: str, default: str, *, environ: dict | None = None) -> dict:
    import dj_database_url

    value = env_str(name, default, environ=environ)
    scheme = urlsplit(value).scheme
    if scheme not in ("postgres", "postgresql", "pgsql", "sqlite"):
        raise ImproperlyConfigured(
            f"{name}={value!r}: only postgres:// (or postgresql://) and sqlite:// are supported."
        )
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"{name}={value!r} is not a database URL: {exc}") from None
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # WAL + IMMEDIATE lets the web server, worker and beat share the demo file
        # without "database is locked" errors on concurrent writes.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return config


def email_from_url(name: str, *, environ: dict | None = None) -> dict | None:
    """Parse ``smtp://user:pass@host:port?tls=true`` (``smtps://`` for SSL).

    ``console://`` prints mails, ``locmem://`` keeps them in memory (tests).
    Returns ``None`` when the variable is not set.
    """
    value = _given(name, environ)
    if value is None:
        return None
    parts = urlsplit(value.strip())
    simple = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if parts.scheme in simple:
        return {"EMAIL_BACKEND": simple[parts.scheme]}
    if parts.scheme not in ("smtp", "smtps", "submission") or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an email URL; use smtp://user:password@host:port "
            "(smtps:// for TLS on connect), console:// or locmem://."
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} has an invalid port.") from None
    config = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or {"smtps": 465, "submission": 587}.get(parts.scheme, 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": False,
    }
    if "tls" in query:
        config["EMAIL_USE_TLS"] = env_bool("tls", False, environ={"tls": query["tls"]})
    elif parts.scheme == "submission":
        config["EMAIL_USE_TLS"] = True
    return config


# --- calendar values (business hours, the digest time) ---------------------------


def env_clock_time(name: str, default: str, *, environ: dict | None = None) -> str:
    """A wall-clock time ``HH:MM`` (24-hour), returned normalised ("9:00" → "09:00")."""
    value = env_str(name, default, environ=environ)
    hours, sep, minutes = value.partition(":")
    if (
        sep
        and hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and 0 <= int(hours) <= 23
        and 0 <= int(minutes) <= 59
    ):
        return f"{int(hours):02d}:{minutes}"
    raise ImproperlyConfigured(f"{name}={value!r} is not a time of day; use HH:MM, e.g. 09:00.")


def env_time_zone(name: str, default: str, *, environ: dict | None = None) -> str:
    """An IANA time zone name such as ``Europe/Berlin``."""
    import zoneinfo

    value = env_str(name, default, environ=environ)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an IANA time zone name such as Europe/Berlin."
        ) from None
    return value


def env_weekdays(name: str, default: list[int], *, environ: dict | None = None) -> list[int]:
    """ISO weekdays, comma-separated: 1 = Monday … 7 = Sunday."""
    raw = env_list(name, [str(d) for d in default], environ=environ)
    if not raw or any(not d.isdigit() or not 1 <= int(d) <= 7 for d in raw):
        raise ImproperlyConfigured(
            f"{name}={','.join(raw)!r} must list ISO weekdays 1 (Monday) to 7 (Sunday), "
            "e.g. 1,2,3,4,5."
        )
    return sorted({int(d) for d in raw})


def env_dates(name: str, *, environ: dict | None = None) -> list[str]:
    """Dates ``YYYY-MM-DD``, comma-separated (e.g. public holidays); empty by default."""
    from datetime import date

    days = env_list(name, [], environ=environ)
    for day in days:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} has {day!r}, which is not a date; use YYYY-MM-DD."
            ) from None
        if len(day) != 10:
            raise ImproperlyConfigured(f"{name} has {day!r}; use YYYY-MM-DD.")
    return sorted(set(days))
