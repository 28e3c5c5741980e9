"""What the incident service tests share: a refused change writes nothing,
and the deadline rows an incident keeps."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from incidents.errors import DomainError
from incidents.models import (
    Deadline,
    DeadlineKind,
    Incident,
    ReferenceCounter,
    RoleAssignment,
    StatusUpdate,
    TimelineEvent,
)

COUNTED = (Incident, TimelineEvent, Deadline, StatusUpdate, RoleAssignment, ReferenceCounter)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def snapshot(incident: Incident | None) -> dict | None:
    if incident is None:
        return None
    return model_to_dict(Incident.objects.get(pk=incident.pk))


def rejected(call, match: str, *, incident: Incident | None = None) -> DomainError:
    """Run an illegal change: it raises a DomainError and writes nothing."""
    counts, before = row_counts(), snapshot(incident)
    with pytest.raises(DomainError, match=match) as info:
        call()
    assert row_counts() == counts
    assert snapshot(incident) == before
    return info.value


def deadline(incident: Incident, kind: str, **filters) -> Deadline:
    return Deadline.objects.get(incident=incident, kind=kind, **filters)


def pending(incident: Incident) -> dict[str, Deadline]:
    # Escalation steps (one row per level) are covered in test_escalation.py;
    # the post-mortem's promises (subject set) in test_postmortem_core.py.
    rows = (
        Deadline.objects.pending()
        .filter(incident=incident, subject="")
        .exclude(kind=DeadlineKind.ESCALATION)
    )
    return {d.kind: d for d in rows}
