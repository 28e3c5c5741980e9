"""``/api/v1/components/`` and ``/api/v1/component-groups/``: thin views
over statuspage.services, addressed by the objects' ids (their ``code``).

Managers create, edit and delete; responders change only a component's
status (``PATCH`` with ``status`` alone, or ``POST …/status/``); viewers read.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from .. import services
from ..access import can_manage
from ..models import Component, ComponentGroup
from . import serializers as s
from .permissions import ReadViewManageWrite, ReadViewRespondWrite

CODE = "[a-z0-9]+"
RESPONDER_ONLY = "Responders change only a component's status; managers edit the rest."


def read_body(serializer_class, request, *, partial: bool = False) -> dict:
    """The body as ``serializer_class`` reads it (400 naming the field), and
    no field it does not take (a read-only one included)."""
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    writable = {name for name, field in serializer.fields.items() if not field.read_only}
    unknown = sorted(set(request.data) - writable)
    if unknown:
        raise ValidationError({unknown[0]: ["cannot be changed here."]})
    return dict(serializer.validated_data)


class ByCode:
    """``get_object`` by the ``id`` in the URL (an object's code), 404 naming it."""

    lookup_field = "code"
    lookup_url_kwarg = "id"
    lookup_value_regex = CODE
    noun = "object"

    def get_object(self):
        code = self.kwargs["id"]
        try:
            obj = self.get_queryset().get(code=code)
        except self.get_queryset().model.DoesNotExist:
            raise NotFound(f"No {self.noun} {code!r} exists.") from None
        self.check_object_permissions(self.request, obj)
        return obj


class ComponentViewSet(ByCode, viewsets.GenericViewSet):
    """The status page's components."""

    serializer_class = s.ComponentSerializer
    noun = "component"
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Component.objects.select_related("group")

    def get_permissions(self):
        if self.action in ("partial_update", "set_status"):
            return [ReadViewRespondWrite()]
        return [ReadViewManageWrite()]

    def _ok(self, component, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=component.pk)
        return Response(s.ComponentSerializer(fresh).data, status=code)

    @extend_schema(responses=s.ComponentSerializer(many=True))
    def list(self, request):
        return Response(s.ComponentSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, id=None):
        return Response(s.ComponentSerializer(self.get_object()).data)

    @extend_schema(request=s.ComponentSerializer, responses={201: s.ComponentSerializer})
    def create(self, request):
        fields = read_body(s.ComponentSerializer, request)
        component = services.component_create(actor=request.user, **fields)
        return self._ok(component, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ComponentSerializer,
        responses=s.ComponentSerializer,
        summary="Edit a component (managers), or set its status alone (responders)",
    )
    def partial_update(self, request, id=None):
        component = self.get_object()
        if not can_manage(request.user):
            if not isinstance(request.data, dict) or set(request.data) != {"status"}:
                raise PermissionDenied(RESPONDER_ONLY)
            fields = read_body(s.ComponentStatusSerializer, request)
            component = services.component_set_status(
                actor=request.user, component=component, status=fields["status"]
            )
            return self._ok(component)
        fields = read_body(s.ComponentSerializer, request, partial=True)
        component = services.component_update(actor=request.user, component=component, **fields)
        return self._ok(component)

    @extend_schema(responses={204: None})
    def destroy(self, request, id=None):
        services.component_delete(actor=request.user, component=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.ComponentStatusSerializer,
        responses=s.ComponentSerializer,
        summary="Set a component's status (responders and managers)",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, id=None):
        component = self.get_object()
        fields = read_body(s.ComponentStatusSerializer, request)
        component = services.component_set_status(
            actor=request.user, component=component, status=fields["status"]
        )
        return self._ok(component)


class ComponentGroupViewSet(ByCode, viewsets.GenericViewSet):
    """Groups of components (the page lists components by group)."""

    serializer_class = s.ComponentGroupSerializer
    permission_classes = [ReadViewManageWrite]
    noun = "component group"
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return ComponentGroup.objects.prefetch_related("components")

    def _ok(self, group, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=group.pk)
        return Response(s.ComponentGroupSerializer(fresh).data, status=code)

    @extend_schema(responses=s.ComponentGroupSerializer(many=True))
    def list(self, request):
        return Response(s.ComponentGroupSerializer(self.get_queryset(), many=True).data)

    def retrieve(self, request, id=None):
        return Response(s.ComponentGroupSerializer(self.get_object()).data)

    @extend_schema(request=s.ComponentGroupSerializer, responses={201: s.ComponentGroupSerializer})
    def create(self, request):
        fields = read_body(s.ComponentGroupSerializer, request)
        group = services.group_create(actor=request.user, **fields)
        return self._ok(group, status.HTTP_201_CREATED)

    @extend_schema(request=s.ComponentGroupSerializer, responses=s.ComponentGroupSerializer)
    def partial_update(self, request, id=None):
        group = self.get_object()
        fields = read_body(s.ComponentGroupSerializer, request, partial=True)
        group = services.group_update(actor=request.user, group=group, **fields)
        return self._ok(group)

    @extend_schema(responses={204: None})
    def destroy(self, request, id=None):
        services.group_delete(actor=request.user, group=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
