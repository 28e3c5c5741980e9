"""Helpers shared by the admin modules."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.text import Truncator

from .. import access

# A duration reads the same in the admin as in messages (incidents/durations.py);
# the admin modules still saying ``human_duration`` get the one function.
from ..durations import duration as human_duration  # noqa: F401
from ..errors import DomainError


def shorten(text: str, length: int = 80) -> str:
    return Truncator(text).chars(length)


class ReadOnlyAdminMixin:
    """View-only: no add, change or delete, whatever the user's permissions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RespondPermissionMixin:
    """Lets actions declare ``permissions=["respond"]`` (incidents.access)."""

    def has_respond_permission(self, request) -> bool:
        return access.can_respond(request.user)


def run_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    items,
    call: Callable,
    *,
    done: str,
    label: Callable = str,
) -> None:
    """Run ``call(item)`` for each item; one message for the successes and
    one per ``DomainError``, so a single conflict never hides the rest."""
    succeeded = []
    for item in items:
        try:
            call(item)
        except DomainError as exc:
            modeladmin.message_user(request, f"{label(item)}: {exc.message}", messages.WARNING)
        else:
            succeeded.append(label(item))
    if succeeded:
        modeladmin.message_user(
            request, f"{done} {len(succeeded)}: {', '.join(succeeded)}.", messages.SUCCESS
        )
