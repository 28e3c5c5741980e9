"""API shapes for on-call: schedules, overrides, shifts and "who is on call".

They check the shape of the input only; the rules (time zones, unique
names, override windows and who may cover whom) are the services'
(``incidents.services.schedules``), which the dashboard and the admin call
too, so every entry point refuses the same input the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import clock
from ..dashboard.feeds import feed_url
from ..models import Override, Rotation, Schedule
from ..oncall import Shift, ShiftSource, oncall_by_schedule
from ..people import display_name
from ..services.schedules import OVERRIDE_FIELDS, ROTATION_FIELDS, SCHEDULE_FIELDS
from .serializers import UsernameField

# Far enough for any schedule, near enough that hand-off arithmetic stays
# inside what ``datetime`` can represent.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
NAIVE = "must include a time zone offset (e.g. 2026-11-28T09:00:00+01:00)."


def parse_aware(raw: str, name: str, *, bounded: bool = True) -> datetime:
    """An ISO 8601 time with an offset, or a ValidationError naming ``name``.
    ``bounded=False`` leaves the range to the service (``timebounds``, for a
    time that is stored); query parameters only read and keep the years."""
    try:  # well-formed but impossible values (month 13) raise ValueError
        value = parse_datetime(raw.strip().replace(" ", "+"))
    except ValueError:
        value = None
    if value is None:
        raise serializers.ValidationError({name: [f"must be an ISO 8601 time (got {raw[:40]!r})."]})
    if value.tzinfo is None:
        raise serializers.ValidationError({name: [NAIVE]})
    if bounded and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(
            {name: [f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."]}
        )
    # In UTC: PostgreSQL refuses offsets past ±15:59 that datetime accepts.
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):  # 9999-12-31 west of UTC is past year 9999 in UTC
        if not bounded:
            return value  # the storing service refuses it (timebounds), in its words
        raise serializers.ValidationError({name: ["This time is out of range."]}) from None


class AwareDateTimeField(serializers.DateTimeField):
    """Refuses a time without an offset instead of guessing its zone. A typed
    time that is stored gets its range checked by the service that stores it,
    so the API refuses it in the same words as the dashboard and the admin."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                return parse_aware(value, self.field_name, bounded=False)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError(exc.detail[self.field_name]) from None
        return super().to_internal_value(value)


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField(source="get_username")
    name = serializers.SerializerMethodField()
    email = serializers.CharField()

    def get_name(self, user) -> str:
        return display_name(user)


class ShiftSerializer(serializers.Serializer):
    user = PersonSerializer()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=ShiftSource.choices)
    rotation_id = serializers.IntegerField(allow_null=True)


class ScheduleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = ["id", "name", "slug"]


class OncallEntrySerializer(serializers.Serializer):
    """One schedule at a moment; everything but ``schedule`` and ``at`` is
    null when nobody is on call."""

    schedule = ScheduleRefSerializer()
    at = serializers.DateTimeField()
    user = PersonSerializer(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=ShiftSource.choices, allow_null=True)

    @staticmethod
    def entry(schedule: Schedule, at: datetime, shift: Shift | None) -> dict:
        return {
            "schedule": schedule,
            "at": at,
            "user": shift.user if shift else None,
            "starts_at": shift.starts_at if shift else None,
            "ends_at": shift.ends_at if shift else None,
            "source": shift.source if shift else None,
        }


class RotationSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Rotation
        fields = ["id", *ROTATION_FIELDS, "members"]
        read_only_fields = fields

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_members(self, rotation) -> list[str]:
        """Usernames in turn order."""
        return [m.user.get_username() for m in rotation.members.all()]


class OverrideSerializer(serializers.ModelSerializer):
    user = UsernameField(help_text="Username of the person covering.")
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Override
        fields = ["id", *OVERRIDE_FIELDS, "created_by"]
        read_only_fields = ["id", "created_by"]
        # The window's rules (who, where, when) are ``services.override_add``'s.


class ScheduleSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(
        max_length=100, required=False, help_text="Defaults to the name, slugified."
    )
    ical_url = serializers.SerializerMethodField()
    oncall_now = serializers.SerializerMethodField()
    rotations = RotationSerializer(many=True, read_only=True)
    overrides = serializers.SerializerMethodField()

    class Meta:
        model = Schedule
        fields = [
            "id",
            *SCHEDULE_FIELDS,
            "ical_url",
            "oncall_now",
            "rotations",
            "overrides",
        ]
        # Unique names and slugs are the service's to refuse, in its words.
        extra_kwargs = {"name": {"validators": []}}

    def get_ical_url(self, schedule) -> str:
        """Subscribable iCalendar feed (add ``?user=<username>`` for one person's shifts)."""
        return feed_url(schedule)

    @extend_schema_field(ShiftSerializer(allow_null=True))
    def get_oncall_now(self, schedule) -> dict | None:
        # One computation for every schedule being rendered (a list page), so
        # the count of queries does not grow with the schedules.
        oncall = self.context.setdefault("oncall", {})
        if schedule.pk not in oncall:
            parent = self.parent if isinstance(self.parent, serializers.ListSerializer) else None
            batch = list(parent.instance) if parent is not None else [schedule]
            oncall.update(oncall_by_schedule(batch, clock.now()))
        shift = oncall.get(schedule.pk)
        return ShiftSerializer(shift).data if shift else None

    @extend_schema_field(OverrideSerializer(many=True))
    def get_overrides(self, schedule) -> list[dict]:
        """Current and upcoming overrides."""
        rows = getattr(schedule, "upcoming_overrides", None)
        if rows is None:
            rows = schedule.overrides.filter(ends_at__gt=clock.now()).select_related(
                "user", "created_by"
            )
        return OverrideSerializer(rows, many=True).data
