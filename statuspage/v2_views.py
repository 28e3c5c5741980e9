"""Statuspage's public API v2 (``/api/v2/*.json``) on the status host and
under /status/ on the main host: pre-rendered bytes (statuspage/cache.py),
readable from any origin as Statuspage's are (aggregators fetch them from
browsers). Bodies: statuspage/v2.py."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from . import v2
from .cache import cached_response
from .models import UNRESOLVED, Component, ComponentGroup, MaintenanceStatus
from .selectors import maintenances, page_data, page_state, public_incidents

JSON = "application/json; charset=utf-8"
RECENT = 50  # incidents.json and scheduled-maintenances.json: the 50 most recent
ACTIVE = [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]


def page() -> v2.Page:
    return v2.Page(
        id=settings.STATUS_PAGE_ID,
        name=settings.STATUS_PAGE_NAME,
        url=f"https://{settings.STATUS_PAGE_HOST}",
        time_zone=settings.STATUS_PAGE_TIME_ZONE,
    )


def endpoint(name: str, body: Callable[[], dict]):
    """A view answering ``body()`` encoded, cached as ``v2:<name>``."""

    @require_safe
    def view(request: HttpRequest) -> HttpResponse:
        response = cached_response(
            request, f"v2:{name}", lambda: v2.encode(body()), content_type=JSON
        )
        response["Access-Control-Allow-Origin"] = "*"
        return response

    view.__name__ = view.__qualname__ = name.replace("/", "_").replace("-", "_")
    return view


def summary_body() -> dict:
    return v2.summary(page_data(), page())


def status_body() -> dict:
    return v2.status(page_data(), page())


def components_body() -> dict:
    return v2.components(
        list(Component.objects.all()),
        list(ComponentGroup.objects.all()),
        page(),
        page_state().updated_at,
    )


def incidents_body(**filters) -> Callable[[], dict]:
    def body() -> dict:
        items = public_incidents().filter(**filters).order_by("-started_at", "-id")[:RECENT]
        groups = ComponentGroup.objects.all()
        return v2.incidents(items, groups, page(), page_state().updated_at)

    return body


def maintenances_body(*, order: tuple[str, ...], **filters) -> Callable[[], dict]:
    def body() -> dict:
        items = maintenances().filter(**filters).order_by(*order)[:RECENT]
        groups = ComponentGroup.objects.all()
        return v2.maintenances(items, groups, page(), page_state().updated_at)

    return body


summary = endpoint("summary", summary_body)
status = endpoint("status", status_body)
components = endpoint("components", components_body)
incidents = endpoint("incidents", incidents_body())
incidents_unresolved = endpoint("incidents-unresolved", incidents_body(status__in=UNRESOLVED))
scheduled_maintenances = endpoint(
    "scheduled-maintenances", maintenances_body(order=("-scheduled_for", "-id"))
)
scheduled_maintenances_upcoming = endpoint(
    "scheduled-maintenances-upcoming",
    maintenances_body(order=("scheduled_for", "id"), status=MaintenanceStatus.SCHEDULED),
)
scheduled_maintenances_active = endpoint(
    "scheduled-maintenances-active",
    maintenances_body(order=("scheduled_for", "id"), status__in=ACTIVE),
)
