"""Public incidents: publishing an internal incident and its public updates.

Only what the communications lead writes here reaches the public: the
public incident's name, impact and the updates' bodies. The internal
incident's title, summary, impact, notes, people and alerts never do.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from incidents import clock
from incidents.errors import DomainError
from incidents.models import EventKind, Incident, TimelineEvent
from incidents.publication import PublicState
from incidents.services.checks import check_choice, check_field_text, check_text

from .. import access
from ..models import (
    ComponentStatus,
    Impact,
    PublicIncident,
    PublicStatus,
    PublicUpdate,
)
from .components import apply_statuses, parse_component_statuses
from .notify import incident_updated
from .page import page_changed

MAX_BODY = 10_000
NAME_LENGTH = PublicIncident._meta.get_field("name").max_length
# Set by a published post-mortem (postmortems/), never by an update.
POSTABLE = [s for s in PublicStatus.values if s != PublicStatus.POSTMORTEM]


def _check_status(status: str) -> str:
    if status not in POSTABLE:
        allowed = ", ".join(POSTABLE)
        raise DomainError(f"status must be one of: {allowed} (got {status!r}).", field="status")
    return status


def _move(public: PublicIncident, status: str, now) -> None:
    """The public incident's status and its stage times (Statuspage's
    ``monitoring_at``, ``resolved_at``); a resolved one posted to again is open."""
    public.status = status
    if status == PublicStatus.MONITORING and public.monitoring_at is None:
        public.monitoring_at = now
    if status == PublicStatus.RESOLVED:
        public.resolved_at = public.resolved_at or now
    else:  # reopened (to monitoring too): no longer resolved
        public.resolved_at = None
    public.updated_at = now


def _restore_on_resolve(public: PublicIncident, given: set[int]) -> list:
    """Components this incident degraded and nobody set otherwise go back to
    operational when it is resolved, unless another open public incident
    still affects them."""
    others = PublicIncident.objects.exclude(pk=public.pk).filter(resolved_at__isnull=True)
    pairs = []
    for component in public.components.select_for_update().exclude(
        status__in=[ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE]
    ):
        if component.pk in given or others.filter(components=component).exists():
            continue
        pairs.append((component, ComponentStatus.OPERATIONAL))
    return pairs


def _post(
    public: PublicIncident,
    *,
    actor,
    status: str,
    body: str,
    components,
    source_update_id: int | None = None,
) -> PublicUpdate:
    now = clock.now()
    pairs = parse_component_statuses(components)
    _move(public, status, now)
    if status == PublicStatus.RESOLVED:
        pairs += _restore_on_resolve(public, {component.pk for component, _ in pairs})
    affected = apply_statuses(pairs, actor=actor, incident=public, notify_subscribers=False)
    if pairs:
        public.components.add(*[component for component, _ in pairs])
    public.save()
    update = PublicUpdate.objects.create(
        incident=public,
        status=status,
        body=body,
        affected_components=affected,
        created_at=now,
        updated_at=now,
        display_at=now,
        source_update_id=source_update_id,
        author=actor if getattr(actor, "pk", None) else None,
    )
    incident_updated(update=update)
    page_changed()
    return update


@transaction.atomic
def incident_publish(
    *,
    actor,
    incident: Incident,
    title: str,
    impact: str,
    message: str,
    components: list | None = None,
) -> PublicIncident:
    """Put an internal incident on the status page, with its first public
    update. Only its communications lead, its commander or a manager may."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    access.require_publish(actor, incident)
    if incident.is_drill:
        raise DomainError(
            "A drill is never published on the status page.", field="is_drill", conflict=True
        )
    if PublicIncident.objects.filter(incident=incident).exists():
        raise DomainError(
            f"{incident.ref} is on the status page already; post a public update instead.",
            field="incident",
            conflict=True,
        )
    # The input is the public incident's name, but the caller calls it "title".
    title = check_text(title, "title", required=True, max_length=NAME_LENGTH, error=DomainError)
    impact = check_choice(impact, Impact, "impact", error=DomainError)
    message = check_text(message, "message", required=True, max_length=MAX_BODY, error=DomainError)
    now = clock.now()
    status = incident.status if incident.status in POSTABLE else PublicStatus.INVESTIGATING
    public = PublicIncident.objects.create(
        incident=incident,
        name=title,
        impact=impact,
        status=status,
        created_at=now,
        updated_at=now,
        started_at=incident.detected_at,
        published_by=actor if getattr(actor, "pk", None) else None,
    )
    update = _post(public, actor=actor, status=status, body=message, components=components)
    TimelineEvent.record(
        incident,
        EventKind.PUBLISHED,
        actor,
        at=now,
        message=f"Published on the status page as “{title}” ({impact} impact).",
        detail={"public_incident": public.code, "public_update": update.code},
    )
    return public


@transaction.atomic
def public_update_post(
    *,
    actor,
    public_incident: PublicIncident,
    status: str,
    body: str,
    components: list | None = None,
    source_update_id: int | None = None,
) -> PublicUpdate:
    """Post a public update (investigating, identified, monitoring, resolved);
    it may set components' statuses. A resolved incident can be reopened."""
    public = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    access.require_publish(actor, public.incident)
    status = _check_status(status)
    body = check_text(body, "body", required=True, max_length=MAX_BODY, error=DomainError)
    return _post(
        public,
        actor=actor,
        status=status,
        body=body,
        components=components,
        source_update_id=source_update_id,
    )


@transaction.atomic
def public_incident_update(
    *, actor, public_incident: PublicIncident, name: str | None = None, impact: str | None = None
) -> PublicIncident:
    """Rename a public incident or change its impact."""
    public = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    access.require_publish(actor, public.incident)
    fields = []
    if name is not None:
        public.name = check_field_text(PublicIncident, "name", name)
        fields.append("name")
    if impact is not None:
        public.impact = check_choice(impact, Impact, "impact", error=DomainError)
        fields.append("impact")
    if fields:
        public.updated_at = clock.now()
        public.save(update_fields=[*fields, "updated_at"])
        page_changed()
    return public


@transaction.atomic
def public_postmortem_attach(*, public_incident: PublicIncident, summary: str) -> PublicUpdate:
    """A published post-mortem's public summary: the incident moves to
    ``postmortem`` with the summary as its last update (called by postmortems/)."""
    public = PublicIncident.objects.select_for_update().get(pk=public_incident.pk)
    summary = check_text(
        summary, "public_summary", required=True, max_length=MAX_BODY, error=DomainError
    )
    now = clock.now()
    public.status = PublicStatus.POSTMORTEM
    public.resolved_at = public.resolved_at or now
    public.updated_at = now
    public.save()
    update = PublicUpdate.objects.create(
        incident=public,
        status=PublicStatus.POSTMORTEM,
        body=summary,
        created_at=now,
        updated_at=now,
        display_at=now,
    )
    incident_updated(update=update)
    page_changed()
    return update


class StatusPagePublisher:
    """The status page as ``incidents.publication`` sees it (registered in
    ``StatuspageConfig.ready``)."""

    def public_update(self, *, incident, update, actor, components) -> None:
        public = PublicIncident.objects.filter(incident=incident).first()
        if public is None:
            if components:
                raise DomainError(
                    f"{incident.ref} is not on the status page yet: publish it first "
                    f"(POST /api/v1/incidents/{incident.ref}/publish/).",
                    field="components",
                    conflict=True,
                )
            return  # kept as a public-to-be note; the dashboard offers to publish
        public_update_post(
            actor=actor,
            public_incident=public,
            status=update.status,
            body=update.message,
            components=components,
            source_update_id=update.pk,
        )

    def postmortem_published(self, *, incident, summary: str) -> None:
        public = PublicIncident.objects.filter(incident=incident).first()
        if public is not None and summary.strip():
            public_postmortem_attach(public_incident=public, summary=summary)

    def state(self, incident) -> PublicState | None:
        manage = reverse("statuspage-manage:incident", args=[incident.ref])
        public = PublicIncident.objects.filter(incident=incident).only("code", "status").first()
        if public is None:
            return PublicState(published=False, manage_url=manage)
        return PublicState(
            published=True,
            manage_url=manage,
            public_url=reverse("statuspage:incident", args=[public.code]),
            public_status=public.status,
        )
