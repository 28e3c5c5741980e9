"""``/api/v1/channels/``: notification channels, for managers only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Channel
from ..notify.errors import TransportError
from ..people import display_name
from ..services import channels
from . import channel_serializers as cs
from .pagination import PagePagination
from .parsers import read_body
from .permissions import ManagerOnly


class ChannelAccess(ManagerOnly):
    message = "Only managers can manage notification channels."


class ChannelViewSet(viewsets.ModelViewSet):
    """Where notifications go (Slack, email, PagerDuty, signed webhooks) and
    which severities each receives. Targets are masked once created."""

    queryset = Channel.objects.all()
    serializer_class = cs.ChannelSerializer
    permission_classes = [ChannelAccess]
    pagination_class = PagePagination

    @extend_schema(responses={201: cs.ChannelCreatedSerializer})
    def create(self, request, *args, **kwargs):
        fields = read_body(cs.ChannelSerializer, request)
        channel = channels.channel_create(actor=request.user, **fields)
        body = cs.ChannelCreatedSerializer(channel, context={"reveal": True}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = channels.channel_update(
            actor=self.request.user, channel=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        channels.channel_delete(actor=self.request.user, channel=instance)

    @extend_schema(request=None, responses=cs.RotatedSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        channel = self.get_object()
        secret = channels.channel_rotate_secret(actor=request.user, channel=channel)
        return Response({"id": channel.pk, "secret": secret})

    @extend_schema(
        request=None, responses={200: cs.ChannelTestSerializer, 502: cs.ChannelTestSerializer}
    )
    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request, pk=None):
        """Send a test message through the channel now (PagerDuty: a trigger
        then a resolve). 200 when the receiver accepted it; 502 with the
        receiver's answer when it did not, also kept as the channel's last error."""
        channel = self.get_object()
        sender = display_name(request.user)
        try:
            outcome = channels.channel_test(actor=request.user, channel=channel, sender=sender)
        except TransportError as exc:
            body = {"id": channel.pk, "delivered": False, "detail": exc.message}
            if exc.status_code is not None:
                body["status_code"] = exc.status_code
            return Response(body, status=status.HTTP_502_BAD_GATEWAY)
        return Response({"id": channel.pk, "delivered": True, **outcome})
