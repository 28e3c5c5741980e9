"""Personal API tokens: the key shown once, only its SHA-256 stored.

Issuing, renaming and revoking are in the audit log with the token's
prefix, never its key or hash."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from .. import clock, privileges
from ..errors import DomainError
from ..models import ApiToken, TokenScope
from .checks import check_field_text
from .edits import Rows

API_KEY_PREFIX = "tbir_"
# The actor of ``manage.py create_api_token``: the operator at the command
# line, who may issue any token (and is no user, so the log names nobody).
OPERATOR = object()
AUDITED = ("user", "name", "prefix", "scopes", "revoked_at")
API_TOKENS = Rows(ApiToken, AUDITED)


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


def _check_name(name) -> str:
    return check_field_text(ApiToken, "name", name, required=False)


@transaction.atomic
def api_token_create(
    *, actor, user, name: str = "", scopes=("read", "write")
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the key, which is never shown again.

    ``actor`` is who asks for it and will read the key: the owner, a
    superuser, or a manager for a service account (``privileges``), or the
    ``OPERATOR`` at the command line, who may issue any token.
    """
    if actor is not OPERATOR:
        privileges.require_issue_token(actor, user)
    key = _new_key(API_KEY_PREFIX)
    state = {
        "user": user,
        "name": _check_name(name),
        "prefix": key[:12],
        "key_hash": hash_key(key),
        "scopes": _check_scopes(scopes),
    }
    token = API_TOKENS.create(actor=actor, action="api_token_create", state=state)
    return token, key


def _require_alter(actor, token: ApiToken) -> None:
    """A superuser's tokens, like the rest of their account, are for
    superusers (the command line's operator may do anything)."""
    if actor is not OPERATOR:
        privileges.require_alter_account_of(actor, token.user)


@transaction.atomic
def api_token_rename(*, actor, token: ApiToken, name: str) -> ApiToken:
    """What the token is for; its key, owner and scopes stay as issued."""
    _require_alter(actor, token)
    API_TOKENS.save(
        actor=actor, action="api_token_rename", row=token, values={"name": _check_name(name)}
    )
    return token


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """The key stops working now; the row stays, saying who had access when."""
    _require_alter(actor, token)
    if token.revoked_at is None:
        API_TOKENS.save(
            actor=actor, action="api_token_revoke", row=token, values={"revoked_at": clock.now()}
        )
    return token


def api_token_lookup(key: str) -> ApiToken | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True)
        .first()
    )
