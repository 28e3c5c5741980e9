"""Incidents in the admin: every change through incidents.services."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect

from .. import access, services
from ..errors import DomainError
from ..models import Deadline, Incident, RoleAssignment, Status, StatusUpdate, TimelineEvent
from ..services.incidents import EDITABLE_FIELDS
from ..timebounds import typed_time_problem
from .common import ReadOnlyAdminMixin, RespondPermissionMixin, run_each

FALSE_POSITIVE_ROOT_CAUSE = "False positive (bulk-resolved from admin)"


class ServiceInlineFormSet(BaseInlineFormSet):
    """An inline whose new rows are saved by an incident service, not by the
    form. ``service_inline`` is set to the inline that knows which one."""

    service_inline: ServiceInlineMixin | None = None

    def new_rows(self) -> list[dict]:
        return [
            form.cleaned_data
            for form in self.extra_forms
            if form.has_changed() and form.cleaned_data and not self._should_delete_form(form)
        ]


class ServiceInlineMixin:
    """Adds rows through a service; existing rows are shown by a read-only twin."""

    formset = ServiceInlineFormSet
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.service_inline = self
        return formset

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return (
            obj is not None
            and access.can_respond(request.user)
            and super().has_add_permission(request, obj)
        )

    def save_row(self, *, incident: Incident, actor, data: dict):
        raise NotImplementedError


class RoleHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RoleAssignment
    verbose_name = "role assignment"
    verbose_name_plural = "Roles (history; hand-overs relieve the previous holder)"
    fields = ("role", "user", "assigned_at", "assigned_by", "relieved_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "assigned_by")


class AssignRoleForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "user")


class AssignRoleInline(ServiceInlineMixin, admin.TabularInline):
    model = RoleAssignment
    form = AssignRoleForm
    verbose_name = "role to assign"
    verbose_name_plural = "Assign a role (a new commander or communications lead takes over)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_row(self, *, incident: Incident, actor, data: dict):
        services.incident_assign_role(
            incident=incident, actor=actor, role=data["role"], user=data["user"]
        )
        return RoleAssignment.objects.get(
            incident=incident, role=data["role"], user=data["user"], relieved_at__isnull=True
        )


class StatusUpdateHistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusUpdate
    verbose_name_plural = "Status updates"
    fields = ("posted_at", "status", "visibility", "author", "message")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class PostUpdateForm(forms.ModelForm):
    class Meta:
        model = StatusUpdate
        fields = ("message", "status", "visibility")
        widgets = {"message": forms.Textarea(attrs={"rows": 3, "cols": 60})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        status.required = False
        status.help_text = "Empty keeps the current status. Resolve with the resolve action."
        status.choices = [(v, label) for v, label in status.choices if v != Status.RESOLVED]


class PostUpdateInline(ServiceInlineMixin, admin.StackedInline):
    model = StatusUpdate
    form = PostUpdateForm
    verbose_name = "status update to post"
    verbose_name_plural = "Post a status update"

    def save_row(self, *, incident: Incident, actor, data: dict):
        return services.incident_post_update(
            incident=incident,
            actor=actor,
            message=data["message"],
            status=data.get("status") or None,
            visibility=data["visibility"],
        )


class TimelineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TimelineEvent
    verbose_name_plural = "Timeline (append-only)"
    fields = ("at", "kind", "actor", "message", "before", "after")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class DeadlineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Deadline
    verbose_name_plural = "Deadlines"
    fields = (
        "kind",
        "severity",
        "level",
        "starts_at",
        "due_at",
        "met_at",
        "cancelled_at",
        "fired_at",
    )
    readonly_fields = fields
    extra = 0


# --- incidents ----------------------------------------------------------------


# What a declaration says (the add form's first section), then its description.
DECLARED = ("title", "severity", "source", "is_drill", "customer_impacting", "detected_at")
DESCRIBED = ("services", "summary", "impact")


class IncidentAddForm(forms.ModelForm):
    """What ``incident_declare`` takes; the service does the rest."""

    commander = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        help_text="Optional: the incident commander from the start.",
    )

    class Meta:
        model = Incident
        fields = (*DECLARED, *DESCRIBED)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["detected_at"].required = False
        self.fields["detected_at"].help_text = "Empty: now."

    def clean_detected_at(self):
        # The service's own check (timebounds), here so that the admin shows
        # it at the field and keeps what was typed; incident_declare repeats it.
        value = self.cleaned_data.get("detected_at")
        if value is not None and (problem := typed_time_problem(value, allow_future=False)):
            raise forms.ValidationError(problem)
        return value


# Fields the change form may edit; everything else changes through a service
# action (acknowledge, resolve, …) so that it lands on the timeline.
CHANGE_FORM_FIELDS = EDITABLE_FIELDS

# The change form's "Times" and "Resolution" sections: set by services only.
TIMES = (
    "detected_at",
    "declared_at",
    "declared_by",
    "acknowledged_at",
    "identified_at",
    "mitigated_at",
    "resolved_at",
)
RESOLUTION = ("root_cause", "resolution", "false_positive", "reopen_count")
INCIDENT_READONLY = (
    "ref",
    "severity",
    "status",
    "source",
    "is_drill",
    "escalation_level",
    *TIMES,
    *RESOLUTION,
    "alert_count",
)


@admin.register(Incident)
class IncidentAdmin(RespondPermissionMixin, admin.ModelAdmin):
    add_form = IncidentAddForm
    list_display = (
        "ref",
        "title",
        "severity",
        "status",
        "acknowledged",
        "commander",
        "detected_at",
        "resolved_at",
        "source",
        "is_drill",
    )
    list_display_links = ("ref", "title")
    list_filter = (
        "severity",
        "status",
        ("acknowledged_at", admin.EmptyFieldListFilter),
        "source",
        "is_drill",
        "customer_impacting",
        "false_positive",
        "services",
    )
    search_fields = ("ref", "title", "summary", "impact", "root_cause")
    date_hierarchy = "detected_at"
    filter_horizontal = ("services",)
    list_per_page = 50
    actions = ["acknowledge_selected", "resolve_as_false_positive"]

    def get_queryset(self, request):
        # ``Incident.commander`` reads the prefetched active assignments.
        return super().get_queryset(request).with_people()

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return (
                (None, {"fields": (*DECLARED, "commander")}),
                ("Description", {"fields": DESCRIBED}),
            )
        return (
            (
                None,
                {
                    "fields": (
                        "ref",
                        "title",
                        "severity",
                        "status",
                        "escalation_level",
                        "source",
                        "is_drill",
                        "alert_count",
                        "customer_impacting",
                        "services",
                    )
                },
            ),
            ("Description", {"fields": ("summary", "impact")}),
            ("Times", {"fields": TIMES}),
            ("Resolution", {"fields": RESOLUTION}),
        )

    def get_readonly_fields(self, request, obj=None):
        return INCIDENT_READONLY if obj else ()

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if not obj.is_open:
            # A resolved incident takes no roles or updates until it is reopened.
            return [RoleHistoryInline, StatusUpdateHistoryInline, DeadlineInline, TimelineInline]
        return [
            RoleHistoryInline,
            AssignRoleInline,
            StatusUpdateHistoryInline,
            PostUpdateInline,
            DeadlineInline,
            TimelineInline,
        ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Incidents are records: resolve (or mark false positive), never delete.
        return False

    @admin.display(boolean=True, description="ack", ordering="acknowledged_at")
    def acknowledged(self, incident: Incident) -> bool:
        return incident.is_acknowledged

    @admin.display(description="commander")
    def commander(self, incident: Incident) -> str:
        user = incident.commander
        return user.get_username() if user else "—"

    # -- saving through the services --

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # super() runs the save in a transaction; an DomainError from a
        # service has rolled it back by the time it reaches here.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            if object_id is None:
                return HttpResponseRedirect(f"{request.path}?{self._refill(request)}")
            return HttpResponseRedirect(request.get_full_path())

    @staticmethod
    def _refill(request) -> str:
        """The add form's input as GET parameters (get_changeform_initial_data)."""
        names = (
            "title",
            "severity",
            "source",
            "is_drill",
            "customer_impacting",
            "summary",
            "impact",
            "commander",
        )
        initial = {n: request.POST[n] for n in names if request.POST.get(n)}
        if request.POST.getlist("services"):
            initial["services"] = ",".join(request.POST.getlist("services"))
        return urlencode(initial)

    def save_model(self, request, obj: Incident, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = services.incident_declare(
                actor=request.user,
                title=data["title"],
                severity=data["severity"],
                source=data["source"],
                is_drill=data.get("is_drill", False),
                customer_impacting=data.get("customer_impacting", False),
                detected_at=data.get("detected_at"),
                services=[s.name for s in data.get("services", ())],
                summary=data.get("summary", ""),
                impact=data.get("impact", ""),
                commander=data.get("commander"),
            )
            # The admin goes on with ``obj`` (log entry, redirect): make it the row.
            for field in Incident._meta.concrete_fields:
                setattr(obj, field.attname, getattr(created, field.attname))
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        changes = {name: data[name] for name in form.changed_data if name in CHANGE_FORM_FIELDS}
        if "services" in changes:
            changes["services"] = [s.name for s in changes["services"]]
        if changes:
            services.incident_update_fields(incident=obj, actor=request.user, **changes)

    def save_related(self, request, form, formsets, change: bool) -> None:
        # No form.save_m2m(): services were set by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change: bool) -> None:
        # Read-only inlines save nothing; construct_change_message still reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        inline = getattr(formset, "service_inline", None)
        if inline is None:
            return
        for data in formset.new_rows():
            formset.new_objects.append(
                inline.save_row(incident=formset.instance, actor=request.user, data=data)
            )

    # -- bulk actions --

    @admin.action(description="Acknowledge selected", permissions=["respond"])
    def acknowledge_selected(self, request, queryset: QuerySet[Incident]) -> None:
        run_each(
            self,
            request,
            queryset.order_by("detected_at", "pk"),
            lambda incident: services.incident_acknowledge(incident=incident, actor=request.user),
            done="Acknowledged",
            label=lambda incident: incident.ref,
        )

    @admin.action(description="Resolve selected as false positive", permissions=["respond"])
    def resolve_as_false_positive(self, request, queryset: QuerySet[Incident]) -> None:
        run_each(
            self,
            request,
            queryset.order_by("detected_at", "pk"),
            lambda incident: services.incident_resolve(
                incident=incident,
                actor=request.user,
                root_cause=FALSE_POSITIVE_ROOT_CAUSE,
                false_positive=True,
            ),
            done="Resolved as false positive",
            label=lambda incident: incident.ref,
        )
