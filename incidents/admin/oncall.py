"""On-call: schedules with their rotations and overrides. Escalation policies
are in ``escalation.py``, contact methods in ``contacts.py``.

A schedule's page shows who is on call now and the next 7 days of the final
schedule, computed by ``incidents.oncall`` exactly as escalation will see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .. import clock
from ..models import (
    Override,
    Rotation,
    RotationMember,
    Schedule,
)
from ..models.oncall import iana_time_zones
from ..oncall import (
    Shift,
    oncall_by_schedule,
    override_add,
    override_change,
    override_remove,
    shifts,
    who_is_on_call,
    zone_of,
)
from ..people import display_name as _person

PREVIEW_DAYS = 7


def _local(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(zone_of(schedule)).strftime("%a %d %b %H:%M %Z")


def _active_users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


# --- schedules ---------------------------------------------------------------------


class ScheduleForm(forms.ModelForm):
    # A list, not free text: a mistyped zone would move every hand-off.
    time_zone = forms.ChoiceField(
        choices=[],
        initial="UTC",
        help_text="Daily and weekly hand-offs keep their wall-clock time in this zone.",
    )

    class Meta:
        model = Schedule
        fields = ("name", "slug", "description", "time_zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(iana_time_zones())]


class RotationInline(admin.TabularInline):
    model = Rotation
    fields = ("name", "priority", "interval", "shift_hours", "starts_at", "ends_at", "members")
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


class OverrideInline(admin.TabularInline):
    model = Override
    fields = ("user", "starts_at", "ends_at", "reason", "created_by")
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
class ScheduleAdmin(admin.ModelAdmin):
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

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            if isinstance(obj, Override):
                override_remove(override=obj, actor=request.user)
            else:
                obj.delete()
        for obj in instances:
            if isinstance(obj, Override):
                save_override(obj, request.user)
            else:
                obj.save()
        formset.save_m2m()


# --- rotations and overrides --------------------------------------------------------


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    fields = ("position", "user")
    extra = 1
    verbose_name_plural = "Members (take turns in position order)"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _active_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
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
    inlines = [RotationMemberInline]
    fields = ("schedule", "name", "priority", "interval", "shift_hours", "starts_at", "ends_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, rotation: Rotation) -> int:
        return rotation.member_total


@admin.register(RotationMember)
class RotationMemberAdmin(admin.ModelAdmin):
    list_display = ("rotation", "position", "user")
    list_filter = ("rotation__schedule",)
    list_select_related = ("rotation__schedule", "user")
    search_fields = ("rotation__name", "user__username")


@admin.register(Override)
class OverrideAdmin(admin.ModelAdmin):
    list_display = ("schedule", "user", "starts_at", "ends_at", "reason", "created_by")
    list_filter = ("schedule",)
    list_select_related = ("schedule", "user", "created_by")
    search_fields = ("schedule__name", "user__username", "reason")
    date_hierarchy = "starts_at"
    fields = ("schedule", "user", "starts_at", "ends_at", "reason", "created_by")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        save_override(obj, request.user)

    def delete_model(self, request, obj):
        override_remove(override=obj, actor=request.user)


def save_override(obj: Override, actor) -> None:
    """The admin's form has filled ``obj``; store it through the service the
    dashboard and the API use (``oncall.override_add`` / ``override_change``),
    so the admin refuses what they refuse. The form's clean() (``window_errors``)
    has already shown the time rules at their field. ``obj`` becomes the
    stored row (the admin goes on with it: log entry, redirect)."""
    window = {
        "schedule": obj.schedule,
        "user": obj.user,
        "starts_at": obj.starts_at,
        "ends_at": obj.ends_at,
        "reason": obj.reason,
        "actor": actor,
    }
    if obj.pk is None:
        stored = override_add(**window)
    else:
        as_it_was = Override.objects.get(pk=obj.pk)
        stored = override_change(override=as_it_was, **window)
    for field in Override._meta.concrete_fields:
        setattr(obj, field.attname, getattr(stored, field.attname))
    obj._state.adding = False
    obj._state.db = stored._state.db
