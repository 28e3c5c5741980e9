"""What the incident page and the board show of an incident's post-mortem,
through ``incidents.lifecycle.register_link`` (incidents never imports us)."""

from __future__ import annotations

from django.urls import reverse

from incidents import clock
from incidents.lifecycle import Link
from incidents.models import Status

from . import access
from .models import Postmortem, PostmortemStatus


def incident_links(incidents: list, *, user=None) -> dict[int, list[Link]]:
    """The post-mortem of each incident (one query for the whole list), or
    for a resolved one without any, the "Ask for a post-mortem" button."""
    if not incidents:
        return {}
    found = {
        pm.incident_id: pm
        for pm in Postmortem.objects.filter(incident__in=[i.pk for i in incidents])
    }
    now = clock.now()
    result: dict[int, list[Link]] = {}
    for incident in incidents:
        postmortem = found.get(incident.pk)
        if postmortem is not None:
            pending = postmortem.status != PostmortemStatus.PUBLISHED
            result[incident.pk] = [
                Link(
                    label="Post-mortem",
                    url=reverse("postmortems:detail", args=[postmortem.pk]),
                    state=postmortem.get_status_display(),
                    due_at=postmortem.due_at if pending else None,
                    starts_at=incident.resolved_at,
                    late=pending and now > postmortem.due_at,
                )
            ]
        elif incident.status == Status.RESOLVED and user is not None and access.can_respond(user):
            result[incident.pk] = [
                Link(
                    label="Ask for a post-mortem",
                    url=reverse("postmortems:request", args=[incident.ref]),
                    post=True,
                )
            ]
    return result
