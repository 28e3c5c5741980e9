"""``/api/v1/trackers/``: where action items become tickets, for managers
only. The token is write-only; a webhook tracker's signing secret is shown
in full when it is created or rotated, masked afterwards."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.api.pagination import PagePagination

from ..models import Tracker
from ..services import trackers
from . import serializers as s
from .action_items import read
from .permissions import ManagersOnly


class TrackerViewSet(viewsets.ModelViewSet):
    """GitHub Issues (``project`` "owner/repo", a token), Jira (a project key,
    ``username`` and an API token) or a signed JSON webhook. ``base_url``
    must be reachable under the outbound-address guard."""

    queryset = Tracker.objects.all()
    serializer_class = s.TrackerSerializer
    permission_classes = [ManagersOnly]
    pagination_class = PagePagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        fields = read(s.TrackerSerializer, request)
        tracker = trackers.tracker_create(actor=request.user, **fields)
        body = s.TrackerSerializer(tracker, context={"reveal": True}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        changes = read(s.TrackerSerializer, request, partial=True)
        tracker = trackers.tracker_update(actor=request.user, tracker=self.get_object(), **changes)
        return Response(s.TrackerSerializer(tracker).data)

    def perform_destroy(self, instance):
        trackers.tracker_delete(actor=self.request.user, tracker=instance)

    @extend_schema(request=None, responses=s.TrackerSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret for a webhook tracker (shown in this answer only)."""
        tracker = self.get_object()
        secret = trackers.tracker_rotate_secret(actor=request.user, tracker=tracker)
        return Response({"id": tracker.pk, "secret": secret})
