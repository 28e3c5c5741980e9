"""Publishing incidents and speaking for them on the status page:

- ``POST /api/v1/incidents/<ref>/publish/``: an internal incident goes public
  (its communications lead, its commander or a manager);
- ``/api/v1/public-incidents/``: what the public sees of each, its public
  updates (``…/updates/``) and its name and impact (``PATCH``).

Updates posted on the internal incident with ``visibility: "public"`` reach
the same service through incidents/publication.py.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import Incident

from .. import selectors, services
from . import serializers as s
from .components import ByCode, read_body
from .permissions import ReadViewRespondWrite


def _public(public, code=status.HTTP_200_OK) -> Response:
    fresh = selectors.public_incidents().get(pk=public.pk)
    return Response(s.PublicIncidentSerializer(fresh).data, status=code)


class PublishView(APIView):
    permission_classes = [ReadViewRespondWrite]

    @extend_schema(
        request=s.PublishSerializer,
        responses={201: s.PublicIncidentSerializer},
        summary="Publish an incident on the status page, with its first public update",
    )
    def post(self, request, ref: str):
        try:
            incident = Incident.objects.get(ref=ref.upper())
        except Incident.DoesNotExist:
            raise NotFound(f"No incident {ref.upper()} exists.") from None
        fields = read_body(s.PublishSerializer, request)
        public = services.incident_publish(actor=request.user, incident=incident, **fields)
        return _public(public, status.HTTP_201_CREATED)


class PublicIncidentPagination(PageNumberPagination):
    """``?page=N&page_size=M``; answers ``count, next, previous, results``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PublicIncidentViewSet(ByCode, viewsets.GenericViewSet):
    """Public incidents, newest first, addressed by their public id."""

    serializer_class = s.PublicIncidentSerializer
    permission_classes = [ReadViewRespondWrite]
    pagination_class = PublicIncidentPagination
    noun = "public incident"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.public_incidents().order_by("-started_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.PublicIncidentSerializer(page, many=True).data)

    def retrieve(self, request, id=None):
        return Response(s.PublicIncidentSerializer(self.get_object()).data)

    @extend_schema(
        request=s.PublicIncidentPatchSerializer,
        responses=s.PublicIncidentSerializer,
        summary="Rename a public incident or change its impact",
    )
    def partial_update(self, request, id=None):
        public = self.get_object()
        fields = read_body(s.PublicIncidentPatchSerializer, request, partial=True)
        public = services.public_incident_update(
            actor=request.user, public_incident=public, **fields
        )
        return _public(public)

    @extend_schema(methods=["get"], responses=s.PublicUpdateSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=s.PublicUpdatePostSerializer,
        responses={201: s.PublicIncidentSerializer},
        summary="Post a public update (investigating, identified, monitoring, resolved)",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def updates(self, request, id=None):
        public = self.get_object()
        if request.method == "GET":
            return Response(s.PublicUpdateSerializer(public.updates.all(), many=True).data)
        fields = read_body(s.PublicUpdatePostSerializer, request)
        services.public_update_post(actor=request.user, public_incident=public, **fields)
        return _public(public, status.HTTP_201_CREATED)
