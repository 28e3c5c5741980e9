"""Helpers shared by the admin modules, and the one way an admin page saves
through the services (``ServiceAdminMixin``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import Truncator

from .. import access
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


class AddFormMixin:
    """A page whose add form (``add_form``) is not its change form, as
    Django's ``UserAdmin``: what is given once at creation differs from what
    changes later."""

    add_form: type[forms.ModelForm]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)


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


# --- saving through services -------------------------------------------------------
#
# A ModelAdmin whose rows a service stores (``ServiceAdminMixin``): its forms
# (``ServiceForm``) check the input's shape only; Django validates them as
# usual, then ``save_model`` / ``save_formset`` / ``delete_model`` call the
# services, and a service's ``DomainError`` comes back beside the field it names.

# The request attribute that carries a refused save into the second pass.
REFUSED = "treebeard_refused_save"


class ServiceForm(forms.ModelForm):
    """An admin form whose row a service stores. It checks the shape of the
    input (types, lengths, choices) and leaves every rule to the service, the
    model's uniqueness and constraints too: ModelForm would check those
    first, in other words than the API and the dashboard get."""

    def _post_clean(self) -> None:
        # ModelForm copies the input onto the instance and validates the
        # model here. The service does both; the instance stays as stored,
        # the "before" of the change the service records.
        return None


def keeping_the_row(form_class: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """``form_class`` (a form we do not own, such as Django's user change
    form) as a ``ServiceForm``: its own fields and checks, the instance left
    as stored."""
    if issubclass(form_class, ServiceForm):
        return form_class
    return type(form_class.__name__, (ServiceForm, form_class), {})


class OfferedChoiceField(forms.ChoiceField):
    """A select that offers choices without refusing others: the service
    checks the value and refuses it in the same words at every entry point."""

    def valid_value(self, value) -> bool:
        return True


def changes_of(form: forms.Form, fields=None) -> dict:
    """The cleaned values of the fields the person changed (of ``fields``)."""
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if fields is None or name in fields
    }


def adopt(obj, stored) -> None:
    """Make ``obj`` (the admin's instance) the row a service created: the
    admin goes on with it (log entry, redirect, the inlines' parent)."""
    obj.pk = stored.pk
    obj.refresh_from_db()
    obj._state.adding = False


@contextlib.contextmanager
def blamed_on(form: forms.Form) -> Iterator[None]:
    """A ``DomainError`` raised inside is about ``form``'s input (an inline row)."""
    try:
        yield
    except DomainError as error:
        error.form_prefix = form.prefix
        raise


def _refusing(form_class: type[forms.Form], error: DomainError) -> type[forms.Form]:
    """``form_class`` whose form that ``error`` blames fails with it, beside
    the field it names (above the form when the form has no such field)."""
    prefix = getattr(error, "form_prefix", None)

    class Refusing(form_class):
        def clean(self):
            data = super().clean()
            if self.prefix == prefix:
                self.add_error(error.field if error.field in self.fields else None, error.message)
            return data

    Refusing.__name__ = Refusing.__qualname__ = form_class.__name__
    return Refusing


def _refusing_formset(formset_class, error: DomainError):
    """The inline's formset, its rows refusing as ``_refusing``."""

    class Refusing(formset_class):
        form = _refusing(formset_class.form, error)

    Refusing.__name__ = Refusing.__qualname__ = formset_class.__name__
    return Refusing


def inline_row(formset: BaseInlineFormSet, form: forms.ModelForm) -> dict:
    """A new inline row's input as its model's page has it: the row's own
    fields and its parent, not the formset's bookkeeping (the row's id and
    ``DELETE``)."""
    bookkeeping = {formset.model._meta.pk.name, DELETION_FIELD_NAME}
    data = {name: value for name, value in form.cleaned_data.items() if name not in bookkeeping}
    data[formset.fk.name] = formset.instance
    return data


class ServiceRowsFormSet(BaseInlineFormSet):
    """An inline's rows as ``ServiceForm``s: their uniqueness is the
    service's to check too (row by row, as it stores them), not the formset's."""

    def validate_unique(self) -> None:
        return None


class ServiceRowsInline:
    """An inline whose rows services store (``ServiceAdminMixin.save_formset``).
    A subclass says how with the methods of a ``ServiceAdminMixin`` page:
    ``add_row(request, data)`` returns the new row (``data``: the row's
    fields and its parent under the foreign key's name, as the model's own
    page gives them, ``inline_row``), ``change_row(request, row, changes)``
    (only the fields that changed) and ``remove_row(request, row)``; an
    inline that offers no change or deletion leaves those out. A model with
    a page and an inline writes them once, in a mixin both use."""

    form = ServiceForm
    formset = ServiceRowsFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.service_inline = self
        return formset


def service_rows(noun: str, *, create=None, update=None, delete=None) -> type:
    """The ``add_row`` / ``change_row`` / ``remove_row`` of a model whose
    services are the usual three, for its page and its inline to share:
    ``create(actor=…, **data)`` returns the new row, ``update(actor=…,
    <noun>=row, **changes)`` and ``delete(actor=…, <noun>=row)``. A service
    not given leaves its method out."""
    methods: dict[str, Callable] = {}
    if create is not None:

        def add_row(self, request, data: dict):
            return create(actor=request.user, **data)

        methods["add_row"] = add_row
    if update is not None:

        def change_row(self, request, row, changes: dict) -> None:
            update(actor=request.user, **{noun: row}, **changes)

        methods["change_row"] = change_row
    if delete is not None:

        def remove_row(self, request, row) -> None:
            delete(actor=request.user, **{noun: row})

        methods["remove_row"] = remove_row
    return type(f"{noun.title().replace('_', '')}Rows", (), methods)


class ServiceAdminMixin:
    """For a ModelAdmin whose saves and deletes call services. A subclass
    says which with ``add_row(request, data)``, which returns the new row,
    ``change_row(request, row, changes)`` (only the fields that changed; the
    row as stored, so its change form is a ``ServiceForm``) and
    ``remove_row(request, row)``; a page that offers no deletion leaves
    ``remove_row`` out. Its inlines are ``ServiceRowsInline``s, or read-only.

    Django's order stays: every form is validated, then saved. A service's
    ``DomainError`` shows where it belongs, never as a 500:

    - saving: the form again with the error beside the field it names, on
      the form or inline row whose input it was (``blamed_on``); the admin's
      transaction has rolled back everything the save wrote;
    - deleting one row: a message on its change page;
    - deleting several: a message, and nothing of the batch is kept;
    - any other action: a message (one that reports each object on its own
      uses ``run_each``).
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            setattr(request, REFUSED, error)
        try:
            # The same POST again: its forms now fail with the refusal and show.
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:  # it blamed no form the page shows (a deleted row)
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        error = getattr(request, REFUSED, None)
        return _refusing(form, error) if error else form

    def get_formsets_with_inlines(self, request, obj=None):
        error = getattr(request, REFUSED, None)
        for formset, inline in super().get_formsets_with_inlines(request, obj):
            yield (_refusing_formset(formset, error) if error else formset), inline

    def save_form(self, request, form, change: bool):
        # Not form.save(commit=False): the service builds the row (a user
        # form's save would hash the password the service hashes again).
        return form.instance

    def save_model(self, request, obj, form, change: bool) -> None:
        if not change:
            adopt(obj, self.add_row(request, form.cleaned_data))
            return
        if not isinstance(form, ServiceForm):
            # A ModelForm has copied its input onto ``obj``: the service would
            # find nothing to change, and the page would save nothing, silently.
            raise ImproperlyConfigured(
                f"{type(self).__name__}'s change form must be a ServiceForm (keeping_the_row)."
            )
        self.change_row(request, obj, changes_of(form))

    def save_related(self, request, form, formsets, change: bool) -> None:
        # No form.save_m2m(): the services set the many-to-many fields they rule.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj) -> None:
        self.remove_row(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.remove_row(request, obj)

    def save_formset(self, request, form, formset, change) -> None:
        """Each row through its inline's services (``ServiceRowsInline``), in
        the order the page lists them; the lists the admin's change message
        is made from are filled as ``formset.save()`` would. A read-only
        inline's formset saves as Django's: nothing."""
        inline = getattr(formset, "service_inline", None)
        if inline is None:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row_form in formset.forms:
            row = row_form.instance
            with blamed_on(row_form):
                if row_form in formset.deleted_forms:
                    if row.pk is not None:
                        inline.remove_row(request, row)
                        formset.deleted_objects.append(row)
                elif not row_form.has_changed():
                    continue
                elif row.pk is None:
                    added = inline.add_row(request, inline_row(formset, row_form))
                    formset.new_objects.append(added)
                else:
                    inline.change_row(request, row, changes_of(row_form))
                    formset.changed_objects.append((row, row_form.changed_data))

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            opts = self.model._meta
            change = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
            return HttpResponseRedirect(reverse(change, args=[object_id]))

    def response_action(self, request, queryset):
        # Only a bulk delete is all or nothing (its log entries are written
        # before ``delete_queryset``); other actions, a channel test sending
        # requests out among them, take no transaction of their own.
        bulk_delete = request.POST.get("action") == "delete_selected"
        try:
            with transaction.atomic() if bulk_delete else contextlib.nullcontext():
                return super().response_action(request, queryset)
        except DomainError as error:
            said = f"Nothing was changed: {error.message}" if bulk_delete else error.message
            self.message_user(request, said, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
