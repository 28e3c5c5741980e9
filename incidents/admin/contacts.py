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
from .common import SavedByServiceAdminMixin, SavedByServiceInlineMixin


class ContactMethodForm(forms.ModelForm):
    value = forms.CharField(
        max_length=ContactMethod._meta.get_field("value").max_length,
        required=False,  # the service says what is missing, in its words
        help_text="Email: an address. PagerDuty: the Events API v2 integration key. "
        "Slack: the member ID (profile → ⋮ → Copy member ID).",
    )

    class Meta:
        model = ContactMethod
        fields = ("user", "kind", "value", "enabled")


class ContactMethodWrites:
    """The service calls the page and the inline share."""

    def save_with_service(self, request, form) -> ContactMethod:
        data = form.cleaned_data
        if form.instance.pk is None:
            return contacts.contact_add(
                actor=request.user,
                user=data["user"],
                kind=data["kind"],
                value=data["value"],
                enabled=data["enabled"],
            )
        return contacts.contact_update(
            actor=request.user,
            method=form.stored(),
            kind=data["kind"],
            value=data["value"],
            enabled=data["enabled"],
        )

    def delete_with_service(self, request, obj: ContactMethod) -> None:
        contacts.contact_remove(actor=request.user, method=obj)


@admin.register(ContactMethod)
class ContactMethodAdmin(ContactMethodWrites, SavedByServiceAdminMixin, admin.ModelAdmin):
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


class ContactMethodInline(ContactMethodWrites, SavedByServiceInlineMixin, admin.TabularInline):
    model = ContactMethod
    form = ContactMethodForm
    fields = ("kind", "value", "enabled")
    extra = 0
    verbose_name_plural = "Contact methods (how pages reach this person)"
