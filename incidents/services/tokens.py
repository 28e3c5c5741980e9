"""Personal API tokens: the key shown once, only its SHA-256 stored."""

from __future__ import annotations

import hashlib
import secrets

from .. import clock, privileges
from ..errors import DomainError
from ..models import ApiToken, TokenScope

API_KEY_PREFIX = "tbir_"
_OPERATOR = object()  # api_token_create's default actor: the command line


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _check_scopes(scopes) -> list[str]:
    scopes = list(dict.fromkeys(scopes or ()))
    if not scopes:
        raise DomainError("scopes must name at least one of read, write, ingest.", field="scopes")
    for scope in scopes:
        if scope not in TokenScope.values:
            raise DomainError(
                f"scopes: {scope!r} is not one of {', '.join(TokenScope.values)}.", field="scopes"
            )
    return scopes


def api_token_create(
    *, user, name: str = "", scopes=("read", "write"), actor=_OPERATOR
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the key, which is never shown again.

    ``actor`` is who asks for it and will read the key: only the owner, a
    superuser, or a manager for a service account (``privileges``). Left
    out, the caller is the operator at the command line
    (``manage.py create_api_token``), who may issue any token.
    """
    if actor is not _OPERATOR:
        privileges.require_issue_token(actor, user)
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
        token.revoked_at = clock.now()
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
