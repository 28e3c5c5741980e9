"""REST API for on-call: who is on call, schedules, overrides, shifts, calendars.

Viewers and up read (as for incidents); managers write schedules; a
responder may also add an override that puts themselves on call (a swap).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import clock, services
from ..access import can_manage, can_respond, can_view
from ..ical import calendar_response
from ..models import Override, Rotation, RotationMember, Schedule
from ..oncall import LOOKAROUND, oncall_by_schedule, shifts
from . import oncall_serializers as s
from .pagination import PagePagination
from .parsers import read_body
from .permissions import ManagerWrites, ScopedPermission

DEFAULT_SHIFTS_WINDOW = timedelta(days=7)
MAX_SHIFTS_WINDOW = LOOKAROUND  # 93 days
MAX_ID_DIGITS = 18  # every 18-digit number fits PostgreSQL's bigint


class ViewerReads(ScopedPermission):
    message = "Your group does not allow this (Viewer and up read on-call schedules)."

    def allowed(self, request, view) -> bool:
        return can_view(request.user)


class OverrideWrites(ScopedPermission):
    """Viewers read overrides; managers add any, responders only their own
    (checked against the body in the view)."""

    message = "Only managers and responders can add overrides."

    def allowed(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return can_view(request.user)
        return can_manage(request.user) or can_respond(request.user)


class CalendarRenderer(renderers.BaseRenderer):
    """Lets ``Accept: text/calendar`` through content negotiation; the view
    writes the calendar itself, so this only renders errors, as plain text."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        detail = data.get("detail", "") if isinstance(data, dict) else data
        return str(detail or "").encode("utf-8")


def _time_param(request, name: str, default: datetime | None = None) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    return s.parse_aware(raw, name)


def _user_param(request):
    """``?user=<username>``: that person, None when not given; a 400 when nobody is called so."""
    username = request.query_params.get("user", "").strip()
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"user": [f"No user is called {username!r}."]})
    return user


class OncallView(APIView):
    """Who is on call at a moment, for every schedule (or one)."""

    permission_classes = [ViewerReads]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "at", OpenApiTypes.DATETIME, description="ISO 8601 time with offset; default now."
            ),
            OpenApiParameter("schedule", str, description="Only the schedule with this slug."),
        ],
        responses=s.OncallEntrySerializer(many=True),
        summary="Who is on call at a time, per schedule",
    )
    def get(self, request):
        at = _time_param(request, "at", clock.now())
        schedules = Schedule.objects.all()
        if slug := request.query_params.get("schedule", "").strip():
            schedules = schedules.filter(slug=slug)
        schedules = list(schedules)
        if slug and not schedules:
            raise ValidationError({"schedule": [f"No schedule has the slug {slug!r}."]})
        oncall = oncall_by_schedule(schedules, at)
        entries = [s.OncallEntrySerializer.entry(x, at, oncall[x.pk]) for x in schedules]
        return Response(s.OncallEntrySerializer(entries, many=True).data)


class ScheduleViewSet(viewsets.ModelViewSet):
    """On-call schedules: everyone with a view right reads, managers write.
    Rotations are edited in the admin; overrides here too."""

    serializer_class = s.ScheduleSerializer
    permission_classes = [ManagerWrites]
    pagination_class = PagePagination

    def get_queryset(self):
        members = RotationMember.objects.select_related("user").order_by("position", "id")
        upcoming = Override.objects.filter(ends_at__gt=clock.now()).select_related(
            "user", "created_by"
        )
        return Schedule.objects.prefetch_related(
            Prefetch(
                "rotations",
                queryset=Rotation.objects.prefetch_related(Prefetch("members", queryset=members)),
            ),
            Prefetch("overrides", queryset=upcoming, to_attr="upcoming_overrides"),
        )

    def get_renderers(self):
        if self.action == "calendar":
            return [renderers.JSONRenderer(), CalendarRenderer()]
        return super().get_renderers()

    def get_permissions(self):
        if self.action in ("overrides", "override_detail"):
            return [OverrideWrites()]
        return super().get_permissions()

    def perform_create(self, serializer):
        serializer.instance = services.schedule_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.schedule_update(
            actor=self.request.user, schedule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.schedule_delete(actor=self.request.user, schedule=instance)

    @extend_schema(methods=["get"], responses=s.OverrideSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.OverrideSerializer, responses={201: s.OverrideSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def overrides(self, request, pk=None):
        """GET: current and upcoming overrides. POST: someone covers a window
        (a responder may only put themselves on call)."""
        schedule = self.get_object()
        if request.method == "GET":
            return Response(s.OverrideSerializer(schedule.upcoming_overrides, many=True).data)
        fields = read_body(s.OverrideSerializer, request)
        override = services.override_add(schedule=schedule, actor=request.user, **fields)
        return Response(s.OverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"overrides/(?P<override_id>[0-9]+)",
        url_name="override-detail",
    )
    def override_detail(self, request, pk=None, override_id=None):
        """Remove an override (cancel cover, or end it early by adding a new
        one): managers any, responders those covering them or made by them."""
        schedule = self.get_object()
        # The URL admits any run of digits; past bigint it can name no row.
        override = None
        if len(override_id) <= MAX_ID_DIGITS:
            override = Override.objects.filter(schedule=schedule, pk=int(override_id)).first()
        if override is None:
            raise NotFound(f"No override {override_id} on schedule {schedule.name}.")
        services.override_remove(override=override, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default now."),
            OpenApiParameter(
                "end",
                OpenApiTypes.DATETIME,
                description="Default start + 7 days; at most 93 days after start.",
            ),
            OpenApiParameter("user", str, description="Only this username's shifts."),
        ],
        responses=s.ShiftSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def shifts(self, request, pk=None):
        """The final schedule (overrides applied) over ``[start, end)``."""
        schedule = self.get_object()
        start = _time_param(request, "start", clock.now())
        end = _time_param(request, "end", start + DEFAULT_SHIFTS_WINDOW)
        if end <= start:
            raise ValidationError({"end": ["must be after start."]})
        if end - start > MAX_SHIFTS_WINDOW:
            raise ValidationError(
                {"end": [f"must be at most {MAX_SHIFTS_WINDOW.days} days after start."]}
            )
        rows = shifts(schedule, start, end, user=_user_param(request))
        return Response(s.ShiftSerializer(rows, many=True).data)

    @extend_schema(
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="iCalendar (RFC 5545), 14 days back to 90 ahead."
            )
        },
        parameters=[
            OpenApiParameter("user", str, description="Only this username's shifts."),
            OpenApiParameter("format", exclude=True),
        ],
        summary="The schedule's shifts as iCalendar",
        operation_id="v1_schedules_calendar",
    )
    def calendar(self, request, pk=None):
        """For signed-in people; calendar apps subscribe to ``ical_url`` instead."""
        schedule = self.get_object()
        return calendar_response(schedule, user=_user_param(request))
