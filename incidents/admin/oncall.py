"""On-call: schedules with their rotations and overrides. Escalation policies
are in ``escalation.py``, contact methods in ``contacts.py``.

Schedules, rotations (with their members) and overrides are stored by
``incidents.services.schedules``, which the API and the dashboard call too;
a refusal shows beside its field (``common.ServiceAdminMixin``).

A schedule's page shows who is on call now and the next 7 days of the final
schedule, computed by ``incidents.oncall`` exactly as escalation will see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .. import clock, services
from ..models import (
    Override,
    Rotation,
    RotationMember,
    Schedule,
)
from ..oncall import (
    Shift,
    oncall_by_schedule,
    shifts,
    who_is_on_call,
    zone_of,
)
from ..people import display_name as _person
from ..services import schedules
from ..services.schedules import OVERRIDE_FIELDS, ROTATION_FIELDS, SCHEDULE_FIELDS
from .common import (
    OfferedChoiceField,
    ServiceAdminMixin,
    ServiceForm,
    ServiceRowsInline,
    adopt,
    changes_of,
    service_rows,
)

PREVIEW_DAYS = 7


def _local(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(zone_of(schedule)).strftime("%a %d %b %H:%M %Z")


def _active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


# --- the service calls a model's page and its inline share ---------------------------


# A rotation's change and removal (added: ``RotationInline`` without
# members, ``RotationAdmin`` with them).
RotationRows = service_rows(
    "rotation", update=services.rotation_update, delete=services.rotation_delete
)
# The overrides' page and the schedule's inline.
OverrideRows = service_rows(
    "override",
    create=services.override_add,
    update=services.override_change,
    delete=services.override_remove,
)


# --- schedules ---------------------------------------------------------------------


class ScheduleForm(ServiceForm):
    # A list, not free text: a mistyped zone would move every hand-off.
    time_zone = OfferedChoiceField(
        choices=[],
        initial="UTC",
        help_text="Daily and weekly hand-offs keep their wall-clock time in this zone.",
    )

    class Meta:
        model = Schedule
        fields = SCHEDULE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(schedules.iana_time_zones())]


class RotationInline(RotationRows, ServiceRowsInline, admin.TabularInline):
    model = Rotation
    fields = (*ROTATION_FIELDS, "members")
    readonly_fields = ("members",)
    show_change_link = True
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("members__user")

    @admin.display(description="members (edit on the rotation's page)")
    def members(self, rotation: Rotation) -> str:
        if rotation.pk is None:
            return "Save, then add members on the rotation's page."
        return ", ".join(m.user.get_username() for m in rotation.members.all()) or "—"

    def add_row(self, request, data: dict) -> Rotation:
        return services.rotation_create(actor=request.user, **data)


class OverrideInline(OverrideRows, ServiceRowsInline, admin.TabularInline):
    model = Override
    fields = (*OVERRIDE_FIELDS, "created_by")
    readonly_fields = ("created_by",)
    extra = 0
    verbose_name_plural = "Overrides (current and upcoming; older ones under Overrides)"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(ends_at__gt=clock.now())
            .select_related("user", "created_by")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _active_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScheduleChangeList(ChangeList):
    """Who is on call for the whole page at once (three queries), not per row."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        oncall = oncall_by_schedule(self.result_list, clock.now())
        for schedule in self.result_list:
            schedule.oncall_shift = oncall[schedule.pk]


@admin.register(Schedule)
class ScheduleAdmin(
    service_rows(
        "schedule",
        create=services.schedule_create,
        update=services.schedule_update,
        delete=services.schedule_delete,
    ),
    ServiceAdminMixin,
    admin.ModelAdmin,
):
    form = ScheduleForm
    list_display = ("name", "slug", "time_zone", "on_call_now", "on_call_until")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [RotationInline, OverrideInline]
    readonly_fields = ("on_call_preview", "calendar_url")
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "time_zone")}),
        ("On call", {"fields": ("on_call_preview", "calendar_url")}),
    )

    def get_changelist(self, request, **kwargs):
        return ScheduleChangeList

    @admin.display(description="on call now")
    def on_call_now(self, schedule: Schedule) -> str:
        shift: Shift | None = getattr(schedule, "oncall_shift", None)
        return _person(shift.user) if shift else "—"

    @admin.display(description="until")
    def on_call_until(self, schedule: Schedule) -> str:
        shift: Shift | None = getattr(schedule, "oncall_shift", None)
        return _local(shift.ends_at, schedule) if shift else "—"

    @admin.display(description="calendar feed")
    def calendar_url(self, schedule: Schedule) -> str:
        if schedule.pk is None:
            return "—"
        path = reverse("incidents:oncall-calendar", kwargs={"feed_token": schedule.feed_token})
        url = f"{settings.SITE_URL}{path}"
        return format_html(
            '<code>{}</code><br><span class="help">Subscribe in a calendar app; add '
            "<code>?user=&lt;username&gt;</code> for one person's shifts. "
            "Anyone with this link can read the schedule.</span>",
            url,
        )

    @admin.display(description=f"on call now and the next {PREVIEW_DAYS} days")
    def on_call_preview(self, schedule: Schedule) -> str:
        if schedule.pk is None:
            return "Save the schedule to see who is on call."
        now = clock.now()
        current = who_is_on_call(schedule, now)
        upcoming = shifts(schedule, now, now + timedelta(days=PREVIEW_DAYS))
        if current is None:
            head = format_html("<p><strong>{}</strong></p>", "Nobody is on call now.")
        else:
            head = format_html(
                "<p>On call now: <strong>{}</strong> ({}) until {}</p>",
                _person(current.user),
                current.source,
                _local(current.ends_at, schedule),
            )
        if not upcoming:
            return head + format_html(
                "<p>No shifts in the next {} days: add a rotation with members.</p>",
                PREVIEW_DAYS,
            )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    _person(s.user),
                    _local(s.starts_at, schedule),
                    _local(s.ends_at, schedule),
                    s.source,
                )
                for s in upcoming
            ),
        )
        return head + format_html(
            "<table><thead><tr><th>Who</th><th>From</th><th>Until</th><th>Source</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )


# --- rotations and overrides --------------------------------------------------------


class RotationMemberInline(admin.TabularInline):
    """The members as one list (``RotationAdmin.save_related``): saved by
    ``rotation_create`` / ``rotation_set_members``, never row by row."""

    model = RotationMember
    form = ServiceForm
    fields = ("position", "user")
    extra = 1
    verbose_name_plural = "Members (take turns in position order)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _active_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class RotationForm(ServiceForm):
    class Meta:
        model = Rotation
        fields = ("schedule", *ROTATION_FIELDS)


def _turn_order(members) -> list:
    """The members' inline as people in turn order (position, then as listed)."""
    rows = [
        (form.cleaned_data.get("position") or 0, index, form.cleaned_data["user"])
        for index, form in enumerate(members.forms)
        if form not in members.deleted_forms and (form.cleaned_data or {}).get("user")
    ]
    return [user for _, _, user in sorted(rows, key=lambda row: row[:2])]


@admin.register(Rotation)
class RotationAdmin(RotationRows, ServiceAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "schedule",
        "priority",
        "interval",
        "shift_hours",
        "starts_at",
        "ends_at",
        "member_count",
    )
    list_filter = ("schedule", "interval")
    list_select_related = ("schedule",)
    search_fields = ("name", "schedule__name")
    form = RotationForm
    inlines = [RotationMemberInline]
    fields = RotationForm.Meta.fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, rotation: Rotation) -> int:
        return rotation.member_total

    def save_model(self, request, obj: Rotation, form, change: bool) -> None:
        """Nothing yet: ``save_related`` stores the rotation with its members,
        where their inline is at hand (a new one in one service call)."""

    def save_related(self, request, form, formsets, change: bool) -> None:
        [members] = formsets
        members.new_objects, members.changed_objects, members.deleted_objects = [], [], []
        people = _turn_order(members)
        if not change:
            data = form.cleaned_data
            created = services.rotation_create(actor=request.user, members=people, **data)
            adopt(form.instance, created)
            return
        rotation = form.instance
        self.change_row(request, rotation, changes_of(form))
        if members.has_changed():
            services.rotation_set_members(actor=request.user, rotation=rotation, members=people)


@admin.register(RotationMember)
class RotationMemberAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Members are added and put in order as a list on their rotation's page;
    here they are only read, or removed (``rotation_set_members`` with the
    others), as when their rotation or schedule is deleted."""

    list_display = ("rotation", "position", "user")
    list_filter = ("rotation__schedule",)
    list_select_related = ("rotation__schedule", "user")
    search_fields = ("rotation__name", "user__username")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def remove_row(self, request, member: RotationMember) -> None:
        self.delete_queryset(request, RotationMember.objects.filter(pk=member.pk))

    def delete_queryset(self, request, queryset: QuerySet[RotationMember]) -> None:
        # One change per rotation, however many of its members leave.
        leaving = set(queryset.values_list("pk", flat=True))
        for rotation in Rotation.objects.filter(members__in=leaving).distinct():
            staying = rotation.members.exclude(pk__in=leaving).select_related("user")
            people = [member.user for member in staying.order_by("position", "id")]
            services.rotation_set_members(actor=request.user, rotation=rotation, members=people)


class OverrideForm(ServiceForm):
    class Meta:
        model = Override
        fields = ("schedule", *OVERRIDE_FIELDS)


@admin.register(Override)
class OverrideAdmin(OverrideRows, ServiceAdminMixin, admin.ModelAdmin):
    form = OverrideForm
    list_display = ("schedule", "user", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("schedule",)
    list_select_related = ("schedule", "user", "created_by")
    search_fields = ("schedule__name", "user__username", "reason")
    date_hierarchy = "starts_at"
    fields = (*OverrideForm.Meta.fields, "created_by")
    readonly_fields = ("created_by",)
