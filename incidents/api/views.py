"""REST API v1: thin views over incidents.services and incidents.selectors."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .. import selectors, services, triage
from ..engine import paging
from ..errors import DomainError
from ..models import Incident, Integration, SeverityPolicy
from ..services.integrations import (
    integration_create,
    integration_delete,
    integration_rotate_token,
    integration_update,
)
from . import serializers as s
from .filters import INCIDENT_FILTERS, incident_filters
from .pagination import PagePagination
from .parsers import read_body
from .permissions import IncidentAccess, ManagerOnly, ManagerWrites


def _ok(request, incident, code=status.HTTP_200_OK) -> Response:
    fresh = selectors.incident_by_ref(incident.ref)
    return Response(s.IncidentSerializer(fresh, context={"request": request}).data, status=code)


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents, addressed by reference (``INC-20261128-001``)."""

    serializer_class = s.IncidentSerializer
    permission_classes = [IncidentAccess]
    pagination_class = PagePagination
    lookup_field = "ref"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    def get_queryset(self):
        if self.action != "list":
            return selectors.incident_list()
        return selectors.incident_list(incident_filters(self.request))

    def get_object(self):
        ref = self.kwargs["ref"].upper()
        try:
            return self.get_queryset().get(ref=ref)
        except Incident.DoesNotExist:
            raise NotFound(f"No incident {ref} exists.") from None

    @extend_schema(parameters=INCIDENT_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=s.DeclareSerializer,
        responses={201: s.IncidentSerializer},
        summary="Declare an incident, or file a user report / support ticket",
    )
    def create(self, request):
        fields = read_body(s.DeclareSerializer, request)
        reasons: list[str] = []
        if "severity" not in fields:
            fields["severity"], reasons = triage.suggest_for_report(
                title=fields["title"], summary=fields["summary"], impact=fields["impact"]
            )
        try:
            incident = services.incident_declare(
                actor=request.user, severity_reasons=reasons, **fields
            )
        except DomainError as exc:
            if exc.field != "user":
                raise
            # The role service names its ``user``; here that person came as ``commander``.
            raise DomainError(exc.message, field="commander", conflict=exc.conflict) from None
        response = _ok(request, incident, status.HTTP_201_CREATED)
        response["Location"] = response.data["api_url"]
        return response

    @extend_schema(
        request=s.IncidentPatchSerializer,
        responses=s.IncidentSerializer,
        summary="Edit fields; severity and status changes go through their rules",
    )
    def partial_update(self, request, ref=None):
        incident = self.get_object()
        fields = read_body(s.IncidentPatchSerializer, request)
        unknown = sorted(set(request.data) - set(s.IncidentPatchSerializer().fields))
        if unknown:
            raise ValidationError({unknown[0]: ["cannot be changed here."]})
        reason = fields.pop("reason", "")
        severity = fields.pop("severity", None)
        new_status = fields.pop("status", None)
        with transaction.atomic():  # all of a PATCH or none of it
            if fields:
                incident = services.incident_update_fields(
                    incident=incident, actor=request.user, **fields
                )
            if severity and severity != incident.severity:
                incident = services.incident_change_severity(
                    incident=incident, actor=request.user, severity=severity, reason=reason
                )
            if new_status and new_status != incident.status:
                incident = services.incident_change_status(
                    incident=incident, actor=request.user, status=new_status, note=reason
                )
        return _ok(request, incident)

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, ref=None):
        incident = services.incident_acknowledge(incident=self.get_object(), actor=request.user)
        return _ok(request, incident)

    @extend_schema(request=s.EscalateSerializer, responses=s.EscalationResultSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, ref=None):
        fields = read_body(s.EscalateSerializer, request)
        incident = services.incident_escalate(
            incident=self.get_object(), actor=request.user, **fields
        )
        result = incident.escalation_outcome
        fresh = selectors.incident_by_ref(incident.ref)
        fresh.paged = result["paged"]
        fresh.escalation_message = paging.escalated_sentence(result)
        return Response(s.EscalationResultSerializer(fresh, context={"request": request}).data)

    @extend_schema(request=s.OptionalReasonSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def mitigate(self, request, ref=None):
        return self._with_reason(
            request, s.OptionalReasonSerializer, services.incident_mitigate, "note"
        )

    @extend_schema(request=s.ResolveSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, ref=None):
        incident = self.get_object()
        fields = read_body(s.ResolveSerializer, request)
        incident = services.incident_resolve(incident=incident, actor=request.user, **fields)
        return _ok(request, incident)

    @extend_schema(request=s.ReasonSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, ref=None):
        return self._with_reason(request, s.ReasonSerializer, services.incident_reopen, "reason")

    def _with_reason(self, request, serializer, change, argument: str):
        """``change`` this incident with the body's ``reason`` as its ``argument``."""
        reason = read_body(serializer, request)["reason"]
        incident = change(incident=self.get_object(), actor=request.user, **{argument: reason})
        return _ok(request, incident)

    @extend_schema(methods=["get"], responses=s.StatusUpdateSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.PostUpdateSerializer, responses={201: s.StatusUpdateSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def updates(self, request, ref=None):
        incident = self.get_object()
        if request.method == "GET":
            rows = incident.updates.select_related("author")
            return Response(s.StatusUpdateSerializer(rows, many=True).data)
        fields = read_body(s.PostUpdateSerializer, request)
        update = services.incident_post_update(incident=incident, actor=request.user, **fields)
        return Response(s.StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=s.RoleAssignmentSerializer(many=True))
    @extend_schema(methods=["post"], request=s.AssignRoleSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def roles(self, request, ref=None):
        """GET: every assignment and hand-over, newest first. POST: assign
        (commander / communications_lead hand over; responders add) or,
        with ``relieve: true``, take a role away."""
        incident = self.get_object()
        if request.method == "GET":
            rows = selectors.role_history(incident)
            return Response(s.RoleAssignmentSerializer(rows, many=True).data)
        fields = read_body(s.AssignRoleSerializer, request)
        service = (
            services.incident_relieve_role if fields["relieve"] else (services.incident_assign_role)
        )
        incident = service(
            incident=incident, actor=request.user, role=fields["role"], user=fields["user"]
        )
        return _ok(request, incident)

    @extend_schema(responses=s.TimelineEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, ref=None):
        rows = selectors.incident_timeline(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.TimelineEventSerializer(page, many=True).data)

    @extend_schema(request=s.MarkSerializer, responses=s.TimelineEventSerializer)
    @action(detail=True, methods=["post"], url_path=r"timeline/(?P<event_id>[0-9]+)/mark")
    def mark(self, request, ref=None, event_id=None):
        """Mark a timeline event as a key moment (detection, diagnosis, repair,
        decision) for the post-mortem's narrative; ``kind: null`` unmarks it."""
        incident = self.get_object()
        event = incident.timeline.filter(pk=int(event_id)).first()
        if event is None:
            raise NotFound(f"{incident.ref} has no timeline event {event_id}.")
        kind = read_body(s.MarkSerializer, request)["kind"]
        if kind:
            services.timeline_mark(actor=request.user, event=event, kind=kind)
        else:
            services.timeline_unmark(actor=request.user, event=event)
        fresh = selectors.incident_timeline(incident).get(pk=event.pk)
        return Response(s.TimelineEventSerializer(fresh).data)

    @extend_schema(responses=s.AlertSerializer(many=True))
    @action(detail=True, methods=["get"])
    def alerts(self, request, ref=None):
        rows = self.get_object().alerts.order_by("-received_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.AlertSerializer(page, many=True).data)


class SeverityPolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The guide's severity policy (P0..P3): everyone reads, managers edit."""

    queryset = SeverityPolicy.objects.all()
    serializer_class = s.SeverityPolicySerializer
    permission_classes = [ManagerWrites]
    lookup_field = "severity"
    lookup_value_regex = "P[0-3]"
    pagination_class = None

    def perform_update(self, serializer):
        serializer.instance = services.severity_policy_update(
            actor=self.request.user, policy=serializer.instance, **serializer.validated_data
        )


def _by_service_name(fields: dict) -> dict:
    """An integration's input as the service takes it: the default service
    by its name (the serializer reads ``{"default_service": {"name": …}}``)."""
    if "default_service" not in fields:
        return dict(fields)
    return {**fields, "default_service": (fields["default_service"] or {}).get("name")}


class IntegrationViewSet(viewsets.ModelViewSet):
    """Alert sources (managers). The secret token is shown once, on creation."""

    queryset = Integration.objects.select_related("default_service")
    serializer_class = s.IntegrationSerializer
    permission_classes = [ManagerOnly]
    pagination_class = PagePagination

    @extend_schema(responses={201: s.IntegrationCreatedSerializer})
    def create(self, request, *args, **kwargs):
        fields = _by_service_name(read_body(s.IntegrationSerializer, request))
        integration, token = integration_create(actor=request.user, **fields)
        body = s.IntegrationSerializer(
            integration, context={"request": request, "token": token}
        ).data
        body["token"] = token
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        fields = _by_service_name(serializer.validated_data)
        serializer.instance = integration_update(
            actor=self.request.user, integration=serializer.instance, **fields
        )

    def perform_destroy(self, instance):
        integration_delete(actor=self.request.user, integration=instance)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "RotatedToken", {"token": serializers.CharField(), "endpoints": serializers.DictField()}
        ),
    )
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        integration = self.get_object()
        token = integration_rotate_token(actor=request.user, integration=integration)
        body = s.IntegrationSerializer(
            integration, context={"request": request, "token": token}
        ).data
        return Response({"token": token, "endpoints": body["endpoints"]})
