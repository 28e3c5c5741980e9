"""``/api/v1/action-items/``: the post-mortems' follow-ups, and turning one
into a ticket (``create-ticket/``). Viewers read; responders write, through
the same services as the pages and the admin."""

from __future__ import annotations

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.api.pagination import PagePagination
from incidents.errors import DomainError

from ..models import OPEN_ACTIONS, ActionItem, ActionStatus, Postmortem, Tracker
from ..services import actions
from . import serializers as s
from .permissions import ViewersReadRespondersWrite

FILTERS = [
    OpenApiParameter("owner", OpenApiTypes.STR, description="The owner's username."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=ActionStatus.values),
    OpenApiParameter(
        "overdue", OpenApiTypes.BOOL, description="true: open items past their due date."
    ),
    OpenApiParameter("postmortem", OpenApiTypes.INT, description="The post-mortem's id."),
]


def read(serializer_class, request, *, partial: bool = False) -> dict:
    """The body as ``serializer_class`` reads it; a 400 naming the field if
    it cannot (shapes only: the rules are the services')."""
    data = serializer_class(data=request.data, partial=partial)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


@extend_schema_view(list=extend_schema(parameters=FILTERS))
class ActionItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Action items: an owner, a due date, a priority, a status, a kind (the
    guide's follow-ups) and the ticket they became. Reminded before the due
    date and reported when overdue; editable after the post-mortem is published."""

    serializer_class = s.ActionItemSerializer
    permission_classes = [ViewersReadRespondersWrite]
    pagination_class = PagePagination

    def get_queryset(self):
        rows = ActionItem.objects.select_related("owner").order_by("due_date", "id")
        params = self.request.query_params
        if owner := params.get("owner"):
            rows = rows.filter(owner__username=owner)
        if item_status := params.get("status"):
            rows = rows.filter(status=item_status)
        if (postmortem := params.get("postmortem", "")).isdigit():
            rows = rows.filter(postmortem_id=int(postmortem))
        overdue = params.get("overdue", "").lower()
        late = Q(status__in=OPEN_ACTIONS, due_date__lt=actions.today())
        if overdue in ("true", "1", "yes"):
            rows = rows.filter(late)
        elif overdue in ("false", "0", "no"):
            rows = rows.exclude(late)
        return rows

    @extend_schema(request=s.ActionItemCreateSerializer, responses={201: s.ActionItemSerializer})
    def create(self, request, *args, **kwargs):
        fields = read(s.ActionItemCreateSerializer, request)
        postmortem = Postmortem.objects.filter(pk=fields.pop("postmortem")).first()
        if postmortem is None:
            raise DomainError("No such post-mortem.", field="postmortem")
        item = actions.action_item_add(actor=request.user, postmortem=postmortem, **fields)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ActionItemUpdateSerializer, responses=s.ActionItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        changes = read(s.ActionItemUpdateSerializer, request, partial=True)
        item = actions.action_item_update(actor=request.user, item=self.get_object(), **changes)
        return Response(self.get_serializer(item).data)

    def perform_destroy(self, instance):
        actions.action_item_delete(actor=self.request.user, item=instance)

    @extend_schema(request=s.CreateTicketSerializer, responses={202: s.ActionItemSerializer})
    @action(detail=True, methods=["post"], url_path="create-ticket")
    def create_ticket(self, request, pk=None):
        """Send the item to a tracker as a ticket. 202: the request is in the
        outbox and retried until the tracker takes it; ``ticket_state`` says
        "pending" until then, and ``ticket_url`` is set once it exists."""
        tracker_id = read(s.CreateTicketSerializer, request)["tracker"]
        item = self.get_object()
        tracker = Tracker.objects.filter(pk=tracker_id).first()
        actions.action_item_create_ticket(actor=request.user, item=item, tracker=tracker)
        item.refresh_from_db()
        return Response(self.get_serializer(item).data, status=status.HTTP_202_ACCEPTED)
