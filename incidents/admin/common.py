"""Helpers shared by the admin modules."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.utils.text import Truncator

from .. import access
from ..errors import DomainError


def human_duration(seconds: int | None) -> str:
    if not seconds:
        return "—"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


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


def form_errors_from(exc: DomainError, form: forms.BaseForm) -> None:
    """Show a service's refusal beside the field it names (above the form
    when the form has no such field)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class SavedByService:
    """An admin form whose last validation step is saving through a service.

    Django's admin validates a form and only then saves it (``save_model``),
    and only a form error puts a message beside a field. So the form calls
    the service as soon as its own parsing passes, in a savepoint: a
    ``DomainError`` becomes a form error beside its field and leaves nothing
    written; success leaves the stored object in ``saved``. A form marked
    for deletion in an inline is left to ``delete_through`` at save time.
    The admin gives the form its ``save_through(form)`` and
    ``delete_through(obj)`` (``service_form``).
    """

    saved = None

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors or (self.empty_permitted and not self.has_changed()):
            return
        if self.cleaned_data.get("DELETE"):
            return
        try:
            with transaction.atomic():
                self.saved = self.save_through(self)
        except DomainError as exc:
            form_errors_from(exc, self)

    def stored(self):
        """The object as it is in the database (``instance`` already holds
        the form's values, which the service has to compare with)."""
        return type(self.instance)._default_manager.get(pk=self.instance.pk)


def service_form(form_class: type, *, save: Callable, delete: Callable) -> type:
    """``form_class`` that saves through ``save(form)`` while it is
    validated and deletes through ``delete(obj)`` (``SavedByService``)."""
    return type(
        form_class.__name__,
        (SavedByService, form_class),
        {"save_through": staticmethod(save), "delete_through": staticmethod(delete)},
    )


class SavedByServiceAdminMixin:
    """A ModelAdmin whose pages change their model only through services.

    Subclasses say how: ``save_with_service(request, form)`` returns the
    stored object (``form.instance.pk`` is None when adding; ``form.stored()``
    is the row as it was), ``delete_with_service(request, obj)`` deletes one.
    The form saves while it is validated (``SavedByService``), so a refusal
    shows beside its field; and the page is one transaction that rolls back
    when it is shown again with errors, so a refused inline row leaves the
    main form's change unwritten too. Inlines take part with
    ``SavedByServiceInlineMixin``; other inlines save as usual.
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return service_form(
            form,
            save=lambda bound: self.save_with_service(request, bound),
            delete=lambda gone: self.delete_with_service(request, gone),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic():
            response = super().changeform_view(request, object_id, form_url, extra_context)
            shown_again = (getattr(response, "context_data", None) or {}).get("errors")
            if request.method == "POST" and shown_again:
                transaction.set_rollback(True)
        return response

    def save_form(self, request, form, change: bool):
        return form.saved

    def save_model(self, request, obj, form, change: bool) -> None:
        """Nothing left to write: the service saved while the form was validated."""

    def save_related(self, request, form, formsets, change: bool) -> None:
        # No form.save_m2m(): the service set the many-to-many fields it rules.
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def save_formset(self, request, form, formset, change: bool) -> None:
        if not issubclass(formset.form, SavedByService):
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # writes nothing; lists the rows for the history
        for gone in formset.deleted_objects:
            formset.form.delete_through(gone)

    def delete_model(self, request, obj) -> None:
        self.delete_with_service(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_with_service(request, obj)


class SavedByServiceInlineMixin:
    """An inline whose rows change only through services: the same
    ``save_with_service(request, form)`` and ``delete_with_service(request,
    obj)`` as ``SavedByServiceAdminMixin``, which its parent admin must use."""

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = service_form(
            kwargs.get("form", self.form),
            save=lambda bound: self.save_with_service(request, bound),
            delete=lambda gone: self.delete_with_service(request, gone),
        )
        return super().get_formset(request, obj, **kwargs)
