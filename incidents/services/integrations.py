"""Integrations: the monitoring tools that send alerts to a secret URL (or
PagerDuty routing key). The token is shown once and stored hashed."""

from __future__ import annotations

import secrets

from django.db import transaction

from .. import clock
from ..errors import DomainError
from ..models import Integration, IntegrationKind, Service, Severity
from ..people import person_of
from ..safejson import text_problem
from .checks import check_choice, check_field_text, check_whole_number, service_name
from .edits import UNSET, Rows, given
from .tokens import hash_key

RATE_LIMIT_MAX = 2_147_483_647  # the column (PositiveIntegerField) holds no more
MAPPING_MAX = 100
# Alert requests name their sender on every request. A process keeps the
# integrations it read for this long, so a storm's request costs one
# statement, not two. Keeping them changes nothing that matters: the
# statement that stores a storm's alerts checks the token and ``enabled``
# itself (``alert_sql.join_open``), and every other path reads the
# integration again (``alert_record``), so a disabled
# integration or a rotated token stops working at once. What may lag by
# this long, in the other processes, is a joined alert's suggested severity
# after a manager edits the severity mapping, and the rate limit after it is
# changed (the process that made the change forgets what it kept).
SENDER_SECONDS = 5
_senders: dict[str, tuple[Integration, float]] = {}

# What people edit of an integration (the entry points' forms show these),
# which the audit log keeps (never its token).
INTEGRATION_FIELDS = (
    "name",
    "kind",
    "default_service",
    "severity_mapping",
    "auto_acknowledge",
    "auto_resolve",
    "enabled",
    "rate_limit_per_minute",
)
INTEGRATIONS = Rows(Integration, INTEGRATION_FIELDS)
# An integration's token, logged by its prefix only (never the token or its hash).
INTEGRATION_TOKENS = Rows(Integration, ("token_prefix",))


def _new_integration_key() -> str:
    """32 hex characters (128 bits): the shape of a PagerDuty routing key, so
    senders that check its length (PagerDuty clients do) accept it."""
    return secrets.token_hex(16)


def _check_mapping(mapping) -> dict:
    if mapping in (None, ""):
        return {}
    if not isinstance(mapping, dict):
        raise DomainError(
            "severity_mapping must be an object of label → P0..P3.", field="severity_mapping"
        )
    if len(mapping) > MAPPING_MAX:
        raise DomainError(
            f"severity_mapping has more than {MAPPING_MAX} labels.", field="severity_mapping"
        )
    clean = {}
    for label, level in mapping.items():
        if len(str(label)) > 100:
            raise DomainError(
                "severity_mapping labels are at most 100 characters.", field="severity_mapping"
            )
        if not isinstance(level, str) or level not in Severity.values:
            raise DomainError(
                f"severity_mapping[{label!r}] must be one of P0, P1, P2, P3 (got {level!r}).",
                field="severity_mapping",
            )
        clean[str(label).strip().lower()] = level
    return clean


def _check_name(name) -> str:
    return check_field_text(Integration, "name", name)


def _check_rate_limit(value) -> int:
    return check_whole_number(value, "rate_limit_per_minute", low=1, high=RATE_LIMIT_MAX)


def _default_service(name) -> Service | None:
    """The service alerts without one are filed under; made on first use."""
    if name in (None, ""):
        return None
    name = service_name(name, "default_service", error=DomainError)
    return Service.objects.get_or_create(name=name)[0]


@transaction.atomic
def integration_create(
    *,
    actor,
    name: str,
    kind: str,
    default_service: str | None = None,
    severity_mapping: dict | None = None,
    auto_acknowledge: bool = True,
    auto_resolve: bool = True,
    enabled: bool = True,
    rate_limit_per_minute: int = 1200,
) -> tuple[Integration, str]:
    """Create an integration; returns it and its secret token (shown once)."""
    check_choice(kind, IntegrationKind, "kind", error=DomainError)
    service = _default_service(default_service)
    key = _new_integration_key()
    state = {
        "name": _check_name(name),
        "kind": kind,
        "token_prefix": key[:6],
        "token_hash": hash_key(key),
        "default_service": service,
        "severity_mapping": _check_mapping(severity_mapping),
        "auto_acknowledge": bool(auto_acknowledge),
        "auto_resolve": bool(auto_resolve),
        "enabled": bool(enabled),
        "rate_limit_per_minute": _check_rate_limit(rate_limit_per_minute),
        "created_by": person_of(actor),
    }
    integration = INTEGRATIONS.create(actor=actor, action="integration_create", state=state)
    return integration, key


@transaction.atomic
def integration_update(
    *,
    actor,
    integration: Integration,
    kind: str = UNSET,
    name: str = UNSET,
    default_service: str | None = UNSET,
    severity_mapping: dict | None = UNSET,
    auto_acknowledge: bool = UNSET,
    auto_resolve: bool = UNSET,
    enabled: bool = UNSET,
    rate_limit_per_minute: int = UNSET,
) -> Integration:
    """Change an integration with the checks ``integration_create`` applies
    (a PATCH once stored ``severity_mapping=[1, 2]`` and every alert with a
    severity then failed). Only the arguments given change; the kind and the
    token do not (the tool was configured with the URL they make)."""
    if kind is not UNSET and kind != integration.kind:
        raise DomainError(
            "kind cannot change: the tool was set up with a URL for its kind; "
            "create a new integration instead.",
            field="kind",
        )
    checks = {
        "name": _check_name,
        "default_service": _default_service,
        "severity_mapping": _check_mapping,
        "auto_acknowledge": bool,
        "auto_resolve": bool,
        "enabled": bool,
        "rate_limit_per_minute": _check_rate_limit,
    }
    values = {
        field: checks[field](value)
        for field, value in given(
            name=name,
            default_service=default_service,
            severity_mapping=severity_mapping,
            auto_acknowledge=auto_acknowledge,
            auto_resolve=auto_resolve,
            enabled=enabled,
            rate_limit_per_minute=rate_limit_per_minute,
        ).items()
    }
    if INTEGRATIONS.save(actor=actor, action="integration_update", row=integration, values=values):
        _senders.clear()
    return integration


@transaction.atomic
def integration_delete(*, actor, integration: Integration) -> None:
    """Delete an integration that never sent an alert. One with alerts is kept
    (its alerts are the record of what the tool said): disable it instead."""
    count = integration.alerts.count()
    if count:
        raise DomainError(
            f"Integration {integration.name!r} has {count} alert(s) and cannot be deleted; "
            "disable it instead (enabled: false).",
            field="enabled",
            conflict=True,
        )
    _senders.clear()
    INTEGRATIONS.delete(actor=actor, action="integration_delete", row=integration)


@transaction.atomic
def integration_rotate_token(*, actor, integration: Integration) -> str:
    """A new token (shown once); the old URL stops working at once."""
    key = _new_integration_key()
    _senders.clear()
    INTEGRATION_TOKENS.save(
        actor=actor,
        action="integration_rotate_token",
        row=integration,
        values={"token_prefix": key[:6], "token_hash": hash_key(key)},
    )
    return key


def integration_by_token_hash(token_hash: str) -> Integration | None:
    """The enabled integration whose token hashes to ``token_hash``."""
    return Integration.objects.filter(token_hash=token_hash, enabled=True).first()


def integration_sender(key: str) -> Integration | None:
    """The enabled integration with this token, or None (unknown or
    disabled), for the alert webhooks: as this process read it in the last
    ``SENDER_SECONDS``, or read now. Whatever a sender put in the URL or
    ``routing_key`` (odd bytes, a lone surrogate that cannot be hashed, a
    megabyte of text) is just unknown."""
    if not key or len(key) > 256 or text_problem(key):
        return None
    token_hash = hash_key(key)
    now = clock.now().timestamp()
    kept = _senders.get(token_hash)
    if kept is not None and 0 <= now - kept[1] < SENDER_SECONDS:
        return kept[0]
    integration = integration_by_token_hash(token_hash)
    if integration is None:
        _senders.pop(token_hash, None)
    else:
        _senders[token_hash] = (integration, now)
    return integration
