"""``/api/v1/status-subscribers/``: the status page's subscribers, for
managers only (list, add, retrieve, delete), and each one's delivery log at
``/api/v1/status-subscribers/<id>/deliveries/``.

A subscriber is addressed by its ``code`` (``id``). ``components`` is a list
of component ids; empty or absent means every component. An email address
added here is confirmed at once (statuspage/services/subscribers.py). A
webhook's signing ``secret`` is shown once, in the answer to the request
that created it, like a webhook channel's: receivers verify
``X-TreeBeard-Signature`` with it (``incidents.notify.transports.verify_signature``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.api.pagination import PagePagination
from incidents.api.permissions import ManagerOnly

from ..models import Subscriber, SubscriberDelivery, SubscriberKind
from ..services.subscribers import subscriber_add, subscriber_delete


class ManagersOnly(ManagerOnly):
    """The rules of every /api/v1/ endpoint (the token's scope, "viewers
    never write"), then managers only: subscribers' addresses are personal."""

    message = "Only managers can manage status-page subscribers."


class CodesField(serializers.ListField):
    """Ids in, ids out: a list of codes, read from a many-to-many relation."""

    child = serializers.CharField(max_length=12)

    def to_representation(self, data):
        if hasattr(data, "all"):
            return sorted(row.code for row in data.all())
        return super().to_representation(data)


class SubscriberSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="code", read_only=True)
    kind = serializers.ChoiceField(choices=SubscriberKind.choices)
    address = serializers.CharField(
        required=False, allow_blank=True, max_length=254, help_text="Email subscribers' address."
    )
    endpoint = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Webhook subscribers' URL (https; it must pass the outbound-address guard).",
    )
    components = CodesField(
        required=False,
        help_text="Component ids; empty or absent means every component.",
    )
    groups = CodesField(
        required=False,
        help_text="Component group ids (every component of the group, including later ones).",
    )

    class Meta:
        model = Subscriber
        fields = [
            "id",
            "kind",
            "address",
            "endpoint",
            "components",
            "groups",
            "confirmed_at",
            "created_at",
        ]
        read_only_fields = ["id", "confirmed_at", "created_at"]


class SubscriberCreatedSerializer(SubscriberSerializer):
    secret = serializers.SerializerMethodField(
        help_text="A webhook's HMAC-SHA256 signing key, shown in this answer only (null for email)."
    )

    class Meta(SubscriberSerializer.Meta):
        fields = [*SubscriberSerializer.Meta.fields, "secret"]

    def get_secret(self, obj) -> str | None:
        return obj.secret if obj.kind == SubscriberKind.WEBHOOK else None


class DeliverySerializer(serializers.ModelSerializer):
    """One message to the subscriber; its state is the outbox row's."""

    status = serializers.CharField(source="notification.status")
    attempts = serializers.IntegerField(source="notification.attempts")
    last_error = serializers.CharField(source="notification.last_error")
    last_status_code = serializers.IntegerField(
        source="notification.last_status_code", allow_null=True
    )
    created_at = serializers.DateTimeField(source="notification.created_at")
    delivered_at = serializers.DateTimeField(source="notification.delivered_at", allow_null=True)

    class Meta:
        model = SubscriberDelivery
        fields = [
            "event",
            "status",
            "attempts",
            "last_error",
            "last_status_code",
            "created_at",
            "delivered_at",
        ]


class SubscriberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Who is told of public changes, by email or signed webhook."""

    queryset = Subscriber.objects.prefetch_related("components", "groups").order_by(
        "-created_at", "-id"
    )
    serializer_class = SubscriberSerializer
    permission_classes = [ManagersOnly]
    pagination_class = PagePagination
    lookup_field = "code"
    lookup_url_kwarg = "id"  # the subscriber's code is its id in the API

    @extend_schema(request=SubscriberSerializer, responses={201: SubscriberCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SubscriberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        subscriber = subscriber_add(actor=request.user, **fields)
        body = SubscriberCreatedSerializer(subscriber).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        subscriber_delete(actor=self.request.user, subscriber=instance)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=PagePagination)
    def deliveries(self, request, **kwargs):
        """The subscriber's delivery log, newest first."""
        subscriber = self.get_object()
        rows = (
            SubscriberDelivery.objects.filter(subscriber=subscriber)
            .select_related("notification")
            .order_by("-id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
