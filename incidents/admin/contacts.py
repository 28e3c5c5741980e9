"""Contact methods in the admin (also an inline on each person's page):
how pages reach a person. Managers edit anyone's but a superuser's, through
``incidents.services.contacts`` like the profile page, so the rules and the
messages are the same; a refusal shows beside its field."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from .. import privileges
from ..models import ContactMethod
from ..services import contacts
from .common import ServiceAdminMixin, ServiceForm, ServiceRowsInline, service_rows


class ContactMethodForm(ServiceForm):
    value = forms.CharField(
        max_length=ContactMethod._meta.get_field("value").max_length,
        required=False,  # the service says what is missing, in its words
        help_text="Email: an address. PagerDuty: the Events API v2 integration key. "
        "Slack: the member ID (profile → ⋮ → Copy member ID).",
    )

    class Meta:
        model = ContactMethod
        fields = ("user", "kind", "value", "enabled")


# A row of the person page's inline (the person is the page's).
ROW_FIELDS = ("kind", "value", "enabled")


# The service calls the contact methods' page and the inline share.
ContactMethodRows = service_rows(
    "method",
    create=contacts.contact_add,
    update=contacts.contact_update,
    delete=contacts.contact_remove,
)


@admin.register(ContactMethod)
class ContactMethodAdmin(ContactMethodRows, ServiceAdminMixin, admin.ModelAdmin):
    form = ContactMethodForm
    list_display = ("user", "kind", "value", "enabled")
    list_filter = ("kind", "enabled")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "value")

    def get_readonly_fields(self, request, obj=None):
        # A method stays its person's: another person adds their own.
        return ("user",) if obj is not None else ()

    # Where a superuser's pages (and acknowledge links) go is theirs to say.
    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and not privileges.can_alter_account_of(request.user, obj.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not privileges.can_alter_account_of(request.user, obj.user):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = privileges.alterable_people(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ContactMethodInline(ContactMethodRows, ServiceRowsInline, admin.TabularInline):
    model = ContactMethod
    form = ContactMethodForm
    fields = ROW_FIELDS
    extra = 0
    verbose_name_plural = "Contact methods (how pages reach this person)"
