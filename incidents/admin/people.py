"""People and groups in the admin, within the privilege boundaries of
``incidents.privileges``: managers manage everyone's group membership but a
superuser's account, and grant nothing beyond the guide's groups. Accounts
change through ``incidents.services.people`` (audited), whose refusals show
beside their fields; the pages only offer what the rules allow."""

from __future__ import annotations

import copy
import functools

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group

from .. import privileges
from ..errors import DomainError
from ..services import people
from .common import ServiceAdminMixin, keeping_the_row
from .contacts import ContactMethodInline

# Set by the system at sign-in and creation, not by anyone's edit.
SYSTEM_FIELDS = ("last_login", "date_joined")


class PeopleAdminMixin(ServiceAdminMixin):
    """Added to the project's user admin (Django's, or any customised one)."""

    def has_view_permission(self, request, obj=None) -> bool:
        # Not even a read-only page of a superuser: it links to the password form.
        if obj is not None and not privileges.can_alter_account_of(request.user, obj):
            return False
        return super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not privileges.can_alter_account_of(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # The bulk "delete selected" asks this for every row, superusers too.
        if obj is not None and not privileges.can_alter_account_of(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        fields += tuple(f for f in SYSTEM_FIELDS if f not in fields)
        if privileges.can_grant_privileges(request.user):
            return fields
        return fields + tuple(f for f in people.PRIVILEGED if f not in fields)

    def get_inlines(self, request, obj):
        # Contact methods are added once the person exists (the change page).
        inlines = super().get_inlines(request, obj)
        return inlines if obj is not None else [i for i in inlines if i is not ContactMethodInline]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = privileges.assignable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            # Django's change form, with its fields and checks, leaving the
            # person as stored for person_update to compare with.
            kwargs["form"] = keeping_the_row(kwargs.get("form", self.form))
        return super().get_form(request, obj, **kwargs)

    def add_row(self, request, data: dict):
        return people.person_create(
            actor=request.user,
            username=data[self.model.USERNAME_FIELD],
            password=data["password1"] if data.get("set_usable_password", True) else None,
        )

    def change_row(self, request, person, changes: dict) -> None:
        people.person_update(
            actor=request.user,
            person=person,
            **{field: value for field, value in changes.items() if field in people.FIELDS},
        )
        if "groups" in changes:
            people.person_set_groups(actor=request.user, person=person, groups=changes["groups"])

    def remove_row(self, request, person) -> None:
        people.person_delete(actor=request.user, person=person)

    def user_change_password(self, request, id, form_url=""):
        # Django's view, with a form that knows who is asking (a copy of the
        # admin per request: the admin itself is shared between threads).
        asked = copy.copy(self)
        asked.change_password_form = functools.partial(PasswordForm, actor=request.user)
        return super(PeopleAdminMixin, asked).user_change_password(request, id, form_url)


class PasswordForm(AdminPasswordChangeForm):
    """Django's checks of the new password, then the service's rules
    (``people.check_password_change``, so a refusal shows on the form) and
    its write (``person_set_password``, audited)."""

    def __init__(self, user, *args, actor, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.actor = actor

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                people.check_password_change(
                    actor=self.actor, person=self.user, usable=data["set_usable_password"]
                )
            except DomainError as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def save(self, commit=True):
        usable = self.cleaned_data["set_usable_password"]
        password = self.cleaned_data["password1"] if usable else None
        people.person_set_password(actor=self.actor, person=self.user, password=password)
        return self.user


def _register_user_admin() -> None:
    """Keep any customised UserAdmin; add the boundaries and the person's
    contact methods (how pages reach them)."""
    user_model = get_user_model()
    base = DjangoUserAdmin
    if admin.site.is_registered(user_model):
        base = type(admin.site._registry[user_model])
        admin.site.unregister(user_model)
    admin.site.register(
        user_model,
        type(
            "UserAdmin",
            (PeopleAdminMixin, base),
            {"inlines": (*base.inlines, ContactMethodInline)},
        ),
    )


_register_user_admin()


if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    """Managers see the groups; only a superuser adds, renames or deletes
    one or changes its permissions (that is granting raw permissions)."""

    def has_add_permission(self, request) -> bool:
        return privileges.can_edit_groups(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return privileges.can_edit_groups(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return privileges.can_edit_groups(request.user)
