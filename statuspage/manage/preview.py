"""A draft as the public would see it: a PublicIncident-like object with its
name, impact, status and the draft update on top of those already public.
Built from the form only (and the public incident's own public fields);
nothing is saved, and nothing internal is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from incidents import clock

from ..models import ComponentStatus, Impact, PublicIncident, PublicStatus
from ..services.incidents import POSTABLE
from .forms import PreviewForm

# Updates already public shown under the draft.
EARLIER = 3


@dataclass
class DraftUpdate:
    status: str
    body: str
    display_at: datetime
    affected: list[dict] = field(default_factory=list)
    is_draft: bool = False

    @property
    def status_label(self) -> str:
        return PublicStatus(self.status).label if self.status in PublicStatus.values else ""


@dataclass
class Draft:
    name: str
    impact: str
    status: str
    updates: list[DraftUpdate]
    untitled: bool = False

    @property
    def status_label(self) -> str:
        return PublicStatus(self.status).label

    @property
    def impact_label(self) -> str:
        return Impact(self.impact).label

    @property
    def is_open(self) -> bool:
        return self.status not in (PublicStatus.RESOLVED, PublicStatus.POSTMORTEM)


def _labelled(items) -> list[dict]:
    """Statuspage's ``affected_components`` with each new status's label."""
    labels = dict(ComponentStatus.choices)
    return [
        {
            **item,
            "label": labels[item["new_status"]],
            "old_label": labels.get(item.get("old_status"), ""),
        }
        for item in items
        if item.get("new_status") in labels
    ]


def timeline(public: PublicIncident | None) -> list[DraftUpdate]:
    """A public incident's updates as the public sees them, newest first."""
    if public is None:
        return []
    return [
        DraftUpdate(u.status, u.body, u.display_at, _labelled(u.affected_components))
        for u in public.updates.all()
    ]


def draft(form: PreviewForm, *, public: PublicIncident | None) -> Draft:
    data = getattr(form, "cleaned_data", {})
    name = (data.get("title") or "").strip() or (public.name if public else "")
    impact = data.get("impact") or (public.impact if public else Impact.MINOR)
    if impact not in Impact.values:
        impact = Impact.MINOR
    status = data.get("status") or ""
    if status not in POSTABLE:
        status = public.status if public else PublicStatus.INVESTIGATING
    affected = _labelled(
        {"name": c.name, "new_status": data.get(f"component_{c.code}")} for c in form.components
    )
    body = (data.get("message") or data.get("body") or "").strip()
    updates = [DraftUpdate(status, body, clock.now(), affected, is_draft=True)]
    if public is not None:
        # The prefetched updates, newest first (selectors.updates_prefetch).
        updates += timeline(public)[:EARLIER]
    return Draft(
        name=name or "Untitled incident",
        impact=impact,
        status=status,
        updates=updates,
        untitled=not name,
    )
