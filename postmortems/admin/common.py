"""How a post-mortems admin page saves: through the services, never the
form's own ``save()``, and a ``DomainError`` shown as a form error beside
the field it names (above the form when the form has no such field).

The same pattern as incidents' admin pages (docs/architecture.md, "One
domain error"), which this app may not import: the form checks shapes only,
``save_model`` / ``delete_model`` call the page's ``add_row``,
``change_row`` and ``remove_row``; a refusal rolls back the admin's
transaction and the same POST is shown again with the error.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from incidents.errors import DomainError

REFUSED = "treebeard_pm_refused_save"


class ServiceForm(forms.ModelForm):
    """Shapes only: the model's own validation (uniqueness, choices) is the
    service's, and the instance stays as stored (the "before" of the change)."""

    def _post_clean(self) -> None:
        return None


def _refusing(form_class: type[forms.Form], error: DomainError) -> type[forms.Form]:
    class Refusing(form_class):
        def clean(self):
            data = super().clean()
            self.add_error(error.field if error.field in self.fields else None, error.message)
            return data

    Refusing.__name__ = Refusing.__qualname__ = form_class.__name__
    return Refusing


class ServiceAdmin(admin.ModelAdmin):
    """A page whose rows services store: ``add_row(request, data)`` returns
    the new row, ``change_row(request, row, changes)`` gets the changed
    fields only, ``remove_row(request, row)`` deletes."""

    form = ServiceForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            setattr(request, REFUSED, error)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        error = getattr(request, REFUSED, None)
        return _refusing(form, error) if error else form

    def save_form(self, request, form, change: bool):
        return form.instance

    def save_model(self, request, obj, form, change: bool) -> None:
        if not change:
            stored = self.add_row(request, form.cleaned_data)
            obj.pk = stored.pk
            obj.refresh_from_db()
            obj._state.adding = False
            return
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        self.change_row(request, obj, changes)

    def save_related(self, request, form, formsets, change: bool) -> None:
        return None  # the services set what they rule

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

    def add_row(self, request, data: dict):
        raise NotImplementedError

    def change_row(self, request, row, changes: dict) -> None:
        raise NotImplementedError

    def remove_row(self, request, row) -> None:
        raise NotImplementedError
