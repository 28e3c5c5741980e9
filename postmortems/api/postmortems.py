"""``/api/v1/postmortems/``: thin views over postmortems.services."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from incidents import clock
from incidents.api.pagination import PagePagination
from incidents.api.parsers import read_body
from incidents.models import Incident

from .. import export, services
from ..models import ActionItem, Postmortem, PostmortemStatus
from . import pm_serializers as s
from .permissions import ViewersReadRespondersWrite


class MarkdownRenderer(BaseRenderer):
    """Lets ``Accept: text/markdown`` reach the export (errors stay JSON)."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else b""


FILTERS = [
    OpenApiParameter("incident", OpenApiTypes.STR, description="An incident's reference."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=PostmortemStatus.values),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Unpublished past its due time."),
]


def postmortems():
    return Postmortem.objects.select_related("incident", "owner").prefetch_related(
        "timeline",
        "participants",
        "reviews__reviewer",
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner")),
    )


class PostmortemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Post-mortems: viewers read, responders write sections, the owner (or a
    manager) submits, publishes and reopens; named reviewers sign off."""

    serializer_class = s.PostmortemSerializer
    permission_classes = [ViewersReadRespondersWrite]
    pagination_class = PagePagination

    def get_queryset(self):
        rows = postmortems()
        if self.action != "list":
            return rows
        params = self.request.query_params
        if ref := params.get("incident"):
            rows = rows.filter(incident__ref=ref.upper())
        if (wanted := params.get("status")) is not None:
            if wanted not in PostmortemStatus.values:
                allowed = ", ".join(PostmortemStatus.values)
                raise ValidationError({"status": [f"status must be one of: {allowed}."]})
            rows = rows.filter(status=wanted)
        if (overdue := params.get("overdue")) is not None:
            if overdue not in ("true", "false"):
                raise ValidationError({"overdue": ["overdue must be true or false."]})
            late = Q(due_at__lt=clock.now()) & ~Q(status=PostmortemStatus.PUBLISHED)
            rows = rows.filter(late) if overdue == "true" else rows.exclude(late)
        return rows

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": clock.now()}

    def get_object(self):
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (ValueError, Postmortem.DoesNotExist):
            raise NotFound(f"No post-mortem {self.kwargs['pk']} exists.") from None

    def _ok(self, postmortem, code=status.HTTP_200_OK) -> Response:
        fresh = postmortems().get(pk=postmortem.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(parameters=FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.PostmortemCreateSerializer, responses={201: s.PostmortemSerializer})
    def create(self, request):
        """Ask for the post-mortem of a resolved incident (P2, P3, a drill);
        P0 and P1 get theirs when they are resolved."""
        ref = read_body(s.PostmortemCreateSerializer, request)["incident"].upper()
        incident = Incident.objects.filter(ref=ref).first()
        if incident is None:
            raise ValidationError({"incident": [f"No incident {ref} exists."]})
        postmortem = services.postmortem_request(actor=request.user, incident=incident)
        return self._ok(postmortem, status.HTTP_201_CREATED)

    @extend_schema(request=s.PostmortemPatchSerializer, responses=s.PostmortemSerializer)
    def partial_update(self, request, pk=None):
        postmortem = self.get_object()
        fields = read_body(s.PostmortemPatchSerializer, request)
        people = {key: fields.pop(key) for key in ("reviewers", "participants") if key in fields}
        timeline = fields.pop("timeline", None)
        if fields:
            postmortem = services.postmortem_update(
                actor=request.user, postmortem=postmortem, **fields
            )
        if people:
            postmortem = services.postmortem_set_people(
                actor=request.user, postmortem=postmortem, **people
            )
        if timeline is not None:
            services.postmortem_set_timeline(
                actor=request.user, postmortem=postmortem, entries=[dict(e) for e in timeline]
            )
        return self._ok(postmortem)

    def _step(self, request, service) -> Response:
        postmortem = service(actor=request.user, postmortem=self.get_object())
        return self._ok(postmortem)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """draft → in_review."""
        return self._step(request, services.postmortem_submit)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """in_review → published, when every section is filled, an action item
        exists and every reviewer signed off (else 400/409 naming what is missing)."""
        return self._step(request, services.postmortem_publish)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Back to draft; sign-offs are cleared."""
        return self._step(request, services.postmortem_reopen)

    @extend_schema(request=s.SignOffSerializer, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """A named reviewer signs off with every checklist item ticked
        (``impact_complete``, ``root_cause_deep``, ``actions_owned``, ``timeline_complete``)."""
        fields = read_body(s.SignOffSerializer, request)
        postmortem = self.get_object()
        services.postmortem_sign_off(actor=request.user, postmortem=postmortem, **fields)
        return self._ok(postmortem)

    @extend_schema(request=None, responses=s.PostmortemSerializer)
    @action(detail=True, methods=["post"], url_path="import-timeline")
    def import_timeline(self, request, pk=None):
        """Import the incident's timeline again (hand-written entries stay)."""
        postmortem = self.get_object()
        services.postmortem_import_timeline(actor=request.user, postmortem=postmortem)
        return self._ok(postmortem)

    @extend_schema(responses={(200, "text/markdown"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], renderer_classes=[MarkdownRenderer, JSONRenderer])
    def markdown(self, request, pk=None):
        """The post-mortem in the guide's template, as Markdown."""
        postmortem = get_object_or_404(postmortems(), pk=self.get_object().pk)
        response = HttpResponse(
            export.markdown(postmortem), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename(postmortem)}"'
        return response
