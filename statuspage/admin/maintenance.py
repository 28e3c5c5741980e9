"""Scheduled maintenance in the admin: scheduling, editing, posting an
update and deleting an upcoming one, each through its service.

The idea of incidents/admin/common.py's ``ServiceAdminMixin`` (not open to
this app), kept small: the form checks shapes only and leaves the instance
as stored; ``save_model`` / ``delete_model`` call the services; a refusal
rolls the page's transaction back and the same POST is shown again with
the error beside its field.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from incidents.errors import DomainError

from .. import access, services
from ..models import Maintenance, MaintenanceStatus, PublicUpdate

REFUSED = "statuspage_refused_save"
EDITABLE = (
    "name",
    "scheduled_for",
    "scheduled_until",
    "components",
    "auto_transition",
    "counts_as_downtime",
)
# A service's field → the form's input that carries it.
FORM_FIELD = {"body": "message", "status": "update_status"}


class MaintenanceForm(forms.ModelForm):
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Scheduling: the first public update (required). Afterwards: posted as a "
        "new public update.",
    )
    update_status = forms.ChoiceField(
        choices=[("", "(keep the status)"), *MaintenanceStatus.choices],
        required=False,
        label="Move to",
        help_text="Post the message as an update in this status (in progress puts the "
        "components under maintenance; completed restores them).",
    )

    class Meta:
        model = Maintenance
        fields = EDITABLE

    def _post_clean(self) -> None:
        # The service checks and writes; the instance stays as stored (the
        # "before" of the change it records).
        return None


def _refusing(form_class, error: DomainError):
    class Refusing(form_class):
        def clean(self):
            data = super().clean()
            field = FORM_FIELD.get(error.field, error.field)
            self.add_error(field if field in self.fields else None, error.message)
            return data

    Refusing.__name__ = Refusing.__qualname__ = form_class.__name__
    return Refusing


class UpdateInline(admin.TabularInline):
    model = PublicUpdate
    fk_name = "maintenance"
    fields = ("display_at", "status", "body", "author")
    readonly_fields = fields
    extra = 0
    ordering = ("-display_at", "-id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    form = MaintenanceForm
    list_display = ("name", "status", "scheduled_for", "scheduled_until", "auto_transition")
    list_filter = ("status", "auto_transition", "counts_as_downtime")
    search_fields = ("name", "code")
    date_hierarchy = "scheduled_for"
    filter_horizontal = ("components",)
    readonly_fields = ("code", "status", "started_at", "resolved_at", "created_by")
    inlines = [UpdateInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*EDITABLE, "message"]
        shown = ("code", "status", *EDITABLE, "started_at", "resolved_at", "created_by")
        return [*shown, "update_status", "message"]

    # Who: viewers read, responders change (statuspage/access.py).
    def has_module_permission(self, request) -> bool:
        return access.can_view(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return access.can_view(request.user)

    def has_add_permission(self, request) -> bool:
        return access.can_respond(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return access.can_respond(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return access.can_respond(request.user)

    # Saving through the services.
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            setattr(request, REFUSED, error)
        # The same POST again: its form now fails with the refusal.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, REFUSED, None)
        return _refusing(form, error) if error else form

    def save_form(self, request, form, change):
        return form.instance

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if not change:
            fields = {name: data[name] for name in EDITABLE}
            stored = services.maintenance_schedule(
                actor=request.user, message=data["message"], **fields
            )
            obj.pk = stored.pk
            obj.refresh_from_db()
            obj._state.adding = False
            return
        changes = {name: data[name] for name in form.changed_data if name in EDITABLE}
        status, message = data.get("update_status"), data.get("message")
        if message and not status:
            changes["message"] = message
        if changes:
            services.maintenance_update(actor=request.user, maintenance=obj, **changes)
        if status:
            services.maintenance_post_update(
                actor=request.user, maintenance=obj, status=status, body=message
            )

    def save_related(self, request, form, formsets, change) -> None:
        # No form.save_m2m() and no inline saves: the services set the
        # components and write the updates (the inline is read-only). The
        # admin's change message still reads what each formset saved.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj) -> None:
        services.maintenance_delete(actor=request.user, maintenance=obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            services.maintenance_delete(actor=request.user, maintenance=obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:statuspage_maintenance_change", args=[object_id])
            )

    def response_action(self, request, queryset):
        try:
            with transaction.atomic():  # a bulk delete is all or nothing
                return super().response_action(request, queryset)
        except DomainError as error:
            self.message_user(request, f"Nothing was deleted: {error.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
