"""Secrets shown once and stored hashed: API tokens and integration tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .errors import IncidentError
from .models import ApiToken, Integration, IntegrationKind, Service, Severity, TokenScope
from .safejson import text_problem

API_KEY_PREFIX = "tbir_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _new_integration_key() -> str:
    """32 hex characters (128 bits): the shape of a PagerDuty routing key, so
    senders that check its length (PagerDuty clients do) accept it."""
    return secrets.token_hex(16)


def _check_scopes(scopes) -> list[str]:
    scopes = list(dict.fromkeys(scopes or ()))
    if not scopes:
        raise IncidentError("scopes must name at least one of read, write, ingest.", field="scopes")
    for scope in scopes:
        if scope not in TokenScope.values:
            raise IncidentError(
                f"scopes: {scope!r} is not one of {', '.join(TokenScope.values)}.", field="scopes"
            )
    return scopes


def api_token_create(*, user, name: str = "", scopes=("read", "write")) -> tuple[ApiToken, str]:
    """Create a token; returns it and the key, which is never shown again."""
    key = _new_key(API_KEY_PREFIX)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=key[:12],
        key_hash=hash_key(key),
        scopes=_check_scopes(scopes),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_lookup(key: str) -> ApiToken | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True)
        .first()
    )


def _check_mapping(mapping) -> dict:
    if mapping in (None, ""):
        return {}
    if not isinstance(mapping, dict):
        raise IncidentError(
            "severity_mapping must be an object of label → P0..P3.", field="severity_mapping"
        )
    clean = {}
    for label, level in mapping.items():
        if level not in Severity.values:
            raise IncidentError(
                f"severity_mapping[{label!r}] must be one of P0, P1, P2, P3 (got {level!r}).",
                field="severity_mapping",
            )
        clean[str(label).strip().lower()] = level
    return clean


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
    name = (name or "").strip()
    if not name:
        raise IncidentError("name is required.", field="name")
    if kind not in IntegrationKind.values:
        raise IncidentError(
            f"kind must be one of {', '.join(IntegrationKind.values)} (got {kind!r}).",
            field="kind",
        )
    service = None
    if default_service:
        service = Service.objects.get_or_create(name=default_service.strip().lower())[0]
    key = _new_integration_key()
    integration = Integration.objects.create(
        name=name[:100],
        kind=kind,
        token_prefix=key[:6],
        token_hash=hash_key(key),
        default_service=service,
        severity_mapping=_check_mapping(severity_mapping),
        auto_acknowledge=bool(auto_acknowledge),
        auto_resolve=bool(auto_resolve),
        enabled=bool(enabled),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return integration, key


def integration_rotate_token(*, integration: Integration) -> str:
    key = _new_integration_key()
    integration.token_prefix, integration.token_hash = key[:6], hash_key(key)
    integration.save(update_fields=["token_prefix", "token_hash"])
    return key


def integration_lookup(key: str) -> Integration | None:
    """The enabled integration with this token, or None (unknown or disabled).

    Whatever a sender put in the URL or ``routing_key`` (odd bytes, a lone
    surrogate that cannot be hashed, a megabyte of text) is just unknown."""
    if not key or len(key) > 256 or text_problem(key):
        return None
    return (
        Integration.objects.select_related("default_service")
        .filter(token_hash=hash_key(key), enabled=True)
        .first()
    )
