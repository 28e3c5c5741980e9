"""Helpers for the dashboard tests: an incident's action URLs, and the
header htmx sends with each of its requests."""

from __future__ import annotations

from django.urls import reverse

from incidents.models import Incident

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, incident: Incident) -> str:
    """The URL of the dashboard view ``incidents:<name>`` for ``incident``."""
    return reverse(f"incidents:{name}", kwargs={"ref": incident.ref})
