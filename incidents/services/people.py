"""People's accounts as the admin's user pages change them: creation, name
and address, the active, staff and superuser flags, raw permissions, group
membership and deletion, within the boundaries of ``incidents.privileges``:

- a superuser's account is for superusers only (``PermissionDenied``);
- only a superuser grants superuser or staff status or raw permissions;
- managers put people in the guide's groups (Viewer, Responder, Manager)
  only, and keep the groups a superuser gave as they are;
- only a superuser, or the person themselves, changes the email address or
  the password of a staff or manager account (``privileges.can_take_over``):
  either is how an account is taken over.

Every change is in the audit log (who, what before and after), the address
and the setting of a password included, so a takeover never passes unseen.
Passwords themselves are never logged.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .. import audit, privileges
from ..errors import DomainError
from .checks import check_field_text, others
from .edits import UNSET, Rows

# What ``person_update`` changes, and what the log keeps of a person (the
# password hash never).
FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "user_permissions",
)
# Only a superuser changes these (privileges.can_grant_privileges).
PRIVILEGED = ("is_staff", "is_superuser", "user_permissions")
PEOPLE = Rows(get_user_model(), FIELDS)


def _check_username(value, *, person=None) -> str:
    people = get_user_model()
    name = check_field_text(people, people.USERNAME_FIELD, value)
    try:
        # The user model's own rule for the characters (Django's: letters,
        # digits and @/./+/-/_), here rather than only in Django's forms.
        people._meta.get_field(people.USERNAME_FIELD).run_validators(name)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="username") from None
    if others(people, person).filter(**{people.USERNAME_FIELD: name}).exists():
        raise DomainError(f"The username {name!r} is taken.", field="username")
    return name


def _check_email(value) -> str:
    email = value.strip() if isinstance(value, str) else ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DomainError("Enter a valid email address.", field="email") from None
    return email


def _check_text(value, field: str) -> str:
    return check_field_text(get_user_model(), field, value, required=False)


def _state(person) -> dict:
    """The person as the log keeps them."""
    return audit.snapshot(person, FIELDS)


def _group_names(groups: Iterable[Group]) -> list[str]:
    return sorted(group.name for group in groups)


@transaction.atomic
def person_create(*, actor, username: str, password: str | None):
    """A new account, in no group yet. ``password`` is checked by the form
    that asked for it (Django's password validators); None makes an account
    nobody signs in as (a service account, for API tokens)."""
    person = get_user_model()(
        **{get_user_model().USERNAME_FIELD: _check_username(username)},
    )
    if password is None:
        person.set_unusable_password()
    else:
        person.set_password(password)
    person.save()
    audit.record(
        actor=actor,
        action="person_create",
        obj=person,
        after={**_state(person), "usable_password": password is not None},
    )
    return person


@transaction.atomic
def person_update(
    *,
    actor,
    person,
    username: str = UNSET,
    first_name: str = UNSET,
    last_name: str = UNSET,
    email: str = UNSET,
    is_active: bool = UNSET,
    is_staff: bool = UNSET,
    is_superuser: bool = UNSET,
    user_permissions: Iterable[Permission] = UNSET,
):
    """Change what is given of ``person``'s account; the rest stays.

    1. A superuser's account is for superusers (``PermissionDenied``).
    2. Superuser and staff status and raw permissions change only by a
       superuser; a refused change names its field and writes nothing.
    3. A manager's email address changes only by them or a superuser.
    """
    privileges.require_alter_account_of(actor, person)
    wanted = {
        "username": username if username is UNSET else _check_username(username, person=person),
        "first_name": first_name if first_name is UNSET else _check_text(first_name, "first_name"),
        "last_name": last_name if last_name is UNSET else _check_text(last_name, "last_name"),
        "email": email if email is UNSET else _check_email(email),
        "is_active": is_active if is_active is UNSET else bool(is_active),
        "is_staff": is_staff if is_staff is UNSET else bool(is_staff),
        "is_superuser": is_superuser if is_superuser is UNSET else bool(is_superuser),
    }
    changed = [f for f, v in wanted.items() if v is not UNSET and getattr(person, f) != v]
    permissions = None
    if user_permissions is not UNSET:
        permissions = set(user_permissions)
        if permissions != set(person.user_permissions.all()):
            changed.append("user_permissions")
    for field in PRIVILEGED:
        if field in changed and not privileges.can_grant_privileges(actor):
            raise DomainError(
                "Only a superuser grants or takes away superuser or staff status or raw "
                "permissions.",
                field=field,
            )
    if "email" in changed and not privileges.can_take_over(actor, person):
        raise DomainError(
            "Only a superuser or the person themselves changes the email address of a "
            "staff or manager account: password resets are sent to it.",
            field="email",
        )
    if not changed:
        return person
    before = _state(person)
    fields = [f for f in changed if f != "user_permissions"]
    for field in fields:
        setattr(person, field, wanted[field])
    if fields:
        person.save(update_fields=fields)
    if permissions is not None and "user_permissions" in changed:
        person.user_permissions.set(permissions)
    audit.record(
        actor=actor, action="person_update", obj=person, before=before, after=_state(person)
    )
    return person


def check_password_change(*, actor, person, usable: bool) -> None:
    """The rules for setting (``usable``) or disabling ``person``'s password,
    which ``person_set_password`` applies; the admin's password form asks
    them too, so a refusal shows on the form before anything is written.

    1. A superuser's account is for superusers (``PermissionDenied``).
    2. Disabling sign-in by password makes a "service account", whose tokens
       managers may issue: only the person themselves or a superuser may.
    3. On a staff or manager account, only the person themselves or a
       superuser sets the password (``privileges.can_take_over``).
    """
    privileges.require_alter_account_of(actor, person)
    if not usable and not privileges.can_disable_password(actor, person):
        raise DomainError(
            "Only a superuser or the person themselves can disable password sign-in: "
            "without a password an account counts as a service account.",
            field="usable_password",
        )
    if usable and not privileges.can_take_over(actor, person):
        raise DomainError(
            "Only a superuser or the person themselves sets the password of a staff or "
            "manager account.",
            field="password1",
        )


@transaction.atomic
def person_set_password(*, actor, person, password: str | None) -> None:
    """Set ``person``'s password (already checked by Django's password
    validators), or disable sign-in by password with None. The log says
    that it happened, never the password."""
    check_password_change(actor=actor, person=person, usable=password is not None)
    if password is None:
        person.set_unusable_password()
    else:
        person.set_password(password)
    person.save(update_fields=["password"])
    audit.record(
        actor=actor,
        action="person_set_password",
        obj=person,
        after={"password": "set" if password is not None else "disabled"},
    )


@transaction.atomic
def person_set_groups(*, actor, person, groups: Iterable[Group]) -> list[Group]:
    """Put ``person`` in ``groups`` and take them out of the others.

    1. A superuser's account is for superusers (``PermissionDenied``).
    2. A group outside ``privileges.assignable_groups(actor)`` is refused.
    3. Groups the actor may not assign (given by a superuser) are kept as
       they are: a manager's edit neither grants nor silently drops them.
    Returns the person's groups afterwards.
    """
    privileges.require_alter_account_of(actor, person)
    allowed = set(privileges.assignable_groups(actor))
    chosen = set(groups)
    if refused := chosen - allowed:
        raise DomainError(
            f"Only a superuser can put people in {', '.join(_group_names(refused))}.",
            field="groups",
        )
    current = set(person.groups.all())
    after = sorted(chosen | (current - allowed), key=lambda group: group.pk)
    if set(after) != current:
        person.groups.set(after)
        audit.record(
            actor=actor,
            action="person_set_groups",
            obj=person,
            before={"groups": _group_names(current)},
            after={"groups": _group_names(after)},
        )
    return after


@transaction.atomic
def person_delete(*, actor, person) -> None:
    """Delete an account (a superuser's: superusers only). The audit rows
    they wrote stay, under the name they had."""
    privileges.require_alter_account_of(actor, person)
    PEOPLE.delete(
        actor=actor,
        action="person_delete",
        row=person,
        extra={"groups": _group_names(person.groups.all())},
    )
