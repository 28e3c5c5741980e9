"""Privilege boundaries: who may make whom powerful, and whose keys one may hold.

Issue 9: a manager (staff, in the Manager group, not a superuser) could reset a
superuser's password and sign in as them, tick ``is_superuser`` on their own
account and create an API token for someone else and read its key. Each rule
below is one function that every entry point asks, mostly through the services
(``services.people``, ``services.tokens``, ``services.contacts``) and the API's
permission classes; the admin's pages ask them to decide what they offer:

- Only a superuser grants superuser or staff status or raw permissions, edits
  a group's permissions, or touches a superuser's account at all.
- Managers manage the group membership of everyone else, among the guide's
  three groups (Viewer, Responder, Manager), which is no more than they hold,
  and change anyone's email address but another manager's (a password reset
  goes to it).
- A key that acts as someone (an API token, an acknowledge link) is seen only
  by that person or a superuser. A manager may also issue tokens for a service
  account: a user with no usable password, so nobody signs in as it, who is
  not a superuser.
- A token's scope limits what it does on top of its owner's group: ``read``
  for safe methods, ``write`` for every write. ``ingest`` grants no REST call:
  alerts are posted to the integration URLs, which carry their own token.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .access import can_manage, can_respond
from .guide import MANAGER, RESPONDER, VIEWER
from .models import TokenScope

CHANGE_USER = "auth.change_user"
GUIDE_GROUPS = (VIEWER, RESPONDER, MANAGER)


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def is_superuser(user) -> bool:
    return _active(user) and user.is_superuser


# --- people and groups (the admin) -----------------------------------------------------


def can_grant_privileges(actor) -> bool:
    """Superuser and staff status, raw user permissions and the permissions of
    groups: what no group membership a manager hands out can reach."""
    return is_superuser(actor)


def can_alter_account_of(actor, person) -> bool:
    """A superuser's account (its page, password, status, groups, deletion)
    and what hangs on it (contact methods: where their pages and acknowledge
    links go) is for superusers only. Django's permissions (``auth.change_user``
    for managers) decide the rest."""
    return is_superuser(actor) or not person.is_superuser


def require_alter_account_of(actor, person) -> None:
    if not can_alter_account_of(actor, person):
        raise PermissionDenied("Only a superuser can change a superuser's account.")


def alterable_people(actor) -> QuerySet:
    """The people whose accounts ``actor`` may alter (``can_alter_account_of``)."""
    people = get_user_model().objects.all()
    return people if is_superuser(actor) else people.filter(is_superuser=False)


def can_disable_password(actor, person) -> bool:
    """Taking away someone's password would turn them into a "service
    account" whose tokens a manager may issue: only the person themselves or
    a superuser may do it. A password that is already unusable stays so."""
    return (
        is_superuser(actor)
        or (_active(actor) and actor.pk == person.pk)
        or not person.has_usable_password()
    )


def assignable_groups(actor) -> QuerySet[Group]:
    """The groups ``actor`` may put people in or take them out of."""
    if is_superuser(actor):
        return Group.objects.all()
    if not (_active(actor) and actor.has_perm(CHANGE_USER)):
        return Group.objects.none()
    return Group.objects.filter(name__in=GUIDE_GROUPS)


def can_take_over(actor, person) -> bool:
    """A new password signs in at once and a password reset is mailed to the
    account's address: setting either on someone else's account takes it over.
    On a staff or manager account only the person themselves or a superuser
    may. Staff status only a superuser changes, so deactivating the person or
    taking them out of the Manager group first does not open the door."""
    return (
        is_superuser(actor)
        or (_active(actor) and actor.pk == person.pk)
        or not (person.is_staff or can_manage(person))
    )


def can_edit_groups(actor) -> bool:
    """Adding, renaming, deleting a group or changing its permissions is
    granting raw permissions."""
    return can_grant_privileges(actor)


# --- keys that act as someone ------------------------------------------------------------


def is_service_account(user) -> bool:
    """A user nobody signs in as: no usable password, not a superuser."""
    return not user.is_superuser and not user.has_usable_password()


def _service_accounts() -> Q:
    return Q(password__startswith=UNUSABLE_PASSWORD_PREFIX, is_superuser=False)


def can_see_key_of(actor, owner) -> bool:
    """May ``actor`` read a key (token, link) that acts as ``owner``?"""
    return is_superuser(actor) or (_active(actor) and owner is not None and actor.pk == owner.pk)


def can_issue_token(actor, owner) -> bool:
    """Tokens for oneself; managers also for service accounts; superusers for anyone."""
    if can_see_key_of(actor, owner):
        return True
    return can_manage(actor) and is_service_account(owner)


def require_issue_token(actor, owner) -> None:
    if not can_issue_token(actor, owner):
        raise PermissionDenied(
            "You may create API tokens only for yourself or for a service account "
            "(a user without a password); a token acts as its owner."
        )


def token_owners(actor) -> QuerySet:
    """The active users ``actor`` may issue a token for (``can_issue_token``)."""
    people = get_user_model().objects.filter(is_active=True)
    if is_superuser(actor):
        return people
    if not _active(actor):
        return people.none()
    mine = Q(pk=actor.pk)
    return people.filter((mine | _service_accounts()) if can_manage(actor) else mine)


# --- token scopes --------------------------------------------------------------------------


def token_allows(scopes, *, write: bool) -> bool:
    """Reads need ``read``; every write needs ``write``. ``ingest`` alone
    allows no REST call: alerts go to the integration URLs."""
    return (TokenScope.WRITE if write else TokenScope.READ) in set(scopes)


def may_write(user) -> bool:
    """Whoever writes anything through the API acts on incidents or manages:
    a viewer (or a person with no group) never writes, whatever the token."""
    return can_respond(user) or can_manage(user)
