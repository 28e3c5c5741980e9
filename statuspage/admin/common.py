"""How the status page's admin pages save: through the services, as the API
and the dashboard do (docs/architecture.md, "One domain error").

A compact equivalent of incidents' ``ServiceAdminMixin`` (statuspage may not
import incidents.admin): a ``ServiceModelAdmin`` says how with
``add_row(request, data)`` (returns the new row), ``change_row(request, row,
changes)`` (only the fields the person changed) and ``remove_row(request,
row)``. Its forms (``ServiceForm``) check the input's shape only; a service's
``DomainError`` rolls the page's transaction back and the same POST is shown
again with the message beside the field it names (above the form when the
form has no such field), or, for deletes and actions, as an error message.
Only managers see these pages (statuspage/access.py).
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from incidents.errors import DomainError

from ..access import can_manage

# The request attribute that carries a refused save into the second pass.
REFUSED = "statuspage_refused_save"


class ServiceForm(forms.ModelForm):
    """Checks the input's shape; the instance stays as stored (the service's
    "before"), and uniqueness and constraints are the service's to refuse,
    in the same words as at the other entry points."""

    def _post_clean(self) -> None:
        return None


class OfferedChoiceField(forms.ChoiceField):
    """A select that offers choices without refusing others: the service
    refuses an unknown value, in its own words."""

    def valid_value(self, value) -> bool:
        return True


def changes_of(form: forms.Form) -> dict:
    """The cleaned values of the fields the person changed."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in form.fields}


def _refusing(form_class: type[forms.Form], error: DomainError) -> type[forms.Form]:
    class Refusing(form_class):
        def clean(self):
            data = super().clean()
            self.add_error(error.field if error.field in self.fields else None, error.message)
            return data

    Refusing.__name__ = Refusing.__qualname__ = form_class.__name__
    return Refusing


class ManagersOnlyMixin:
    """Only managers see and change the status page's admin pages."""

    def has_module_permission(self, request) -> bool:
        return can_manage(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)


class ReadOnlyMixin(ManagersOnlyMixin):
    """Managers look; nobody adds, changes or deletes here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page (to managers), never edited there."""

    extra = 0
    max_num = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceModelAdmin(ManagersOnlyMixin, admin.ModelAdmin):
    form = ServiceForm

    def add_row(self, request, data: dict):
        raise NotImplementedError

    def change_row(self, request, row, changes: dict) -> None:
        raise NotImplementedError

    def remove_row(self, request, row) -> None:
        raise NotImplementedError

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            setattr(request, REFUSED, error)
        # The same POST again: its form now fails with the refusal and shows.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        error = getattr(request, REFUSED, None)
        return _refusing(form, error) if error else form

    def save_form(self, request, form, change: bool):
        # Not form.save(commit=False): the service builds and saves the row.
        return form.instance

    def save_model(self, request, obj, form, change: bool) -> None:
        if change:
            self.change_row(request, obj, changes_of(form))
            obj.refresh_from_db()
            return
        stored = self.add_row(request, form.cleaned_data)
        # The admin goes on with the row the service made (log entry, redirect).
        obj.pk = stored.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_related(self, request, form, formsets, change: bool) -> None:
        # No form.save_m2m(): the services set the many-to-many fields they
        # rule; the inlines are read-only, nothing of theirs is saved.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj) -> None:
        self.remove_row(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.remove_row(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            opts = self.model._meta
            change = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[object_id]))

    def response_action(self, request, queryset):
        # A bulk delete is all or nothing; other actions report each refusal.
        bulk_delete = request.POST.get("action") == "delete_selected"
        try:
            with transaction.atomic() if bulk_delete else contextlib.nullcontext():
                return super().response_action(request, queryset)
        except DomainError as error:
            said = f"Nothing was changed: {error.message}" if bulk_delete else error.message
            self.message_user(request, said, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def run_each(modeladmin, request, items, call, *, done: str) -> None:
    """``call(item)`` for each item: one message for the successes and one
    per ``DomainError``, so a single refusal never hides the rest."""
    succeeded = []
    for item in items:
        try:
            with transaction.atomic():
                call(item)
        except DomainError as exc:
            modeladmin.message_user(request, f"{item}: {exc.message}", messages.WARNING)
        else:
            succeeded.append(str(item))
    if succeeded:
        modeladmin.message_user(
            request, f"{done} {len(succeeded)}: {', '.join(succeeded)}.", messages.SUCCESS
        )
