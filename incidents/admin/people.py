"""People and groups in the admin, within the privilege boundaries of
``incidents.privileges``: managers manage everyone's group membership but a
superuser's account, and grant nothing beyond the guide's groups."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect

from .. import privileges
from .oncall import ContactMethodInline

# Only a superuser grants these (privileges.can_grant_privileges).
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "user_permissions")


class PeopleAdminMixin:
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
        if obj is None or privileges.can_grant_privileges(request.user):
            return fields
        return fields + tuple(f for f in PRIVILEGE_FIELDS if f not in fields)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = privileges.assignable_groups(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change: bool) -> None:
        if change:
            privileges.require_alter_account_of(request.user, type(obj).objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        chosen = form.cleaned_data.pop("groups", None)  # so save_m2m leaves them alone
        super().save_related(request, form, formsets, change)
        if chosen is not None:
            person = form.instance
            person.groups.set(
                privileges.groups_after_change(actor=request.user, person=person, chosen=chosen)
            )

    def delete_model(self, request, obj) -> None:
        privileges.require_alter_account_of(request.user, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for person in queryset:
            privileges.require_alter_account_of(request.user, person)
        super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        person = self.get_object(request, unquote(id))
        if (
            request.method == "POST"
            and person is not None
            # Otherwise super() refuses the page itself (a superuser's: 403).
            and self.has_change_permission(request, person)
            and request.POST.get("usable_password") == "false"
            and not privileges.can_disable_password(request.user, person)
        ):
            messages.error(
                request,
                "Only a superuser or the person themselves can disable password sign-in: "
                "without a password an account counts as a service account.",
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().user_change_password(request, id, form_url)


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
