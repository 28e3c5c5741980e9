"""The guide's sections as the page edits them: each a form over some of the
post-mortem's fields, in the template's order (GUIDE.md "Post-Mortem
Document"). The timeline and the action items have pages of their own
kind (rows, not text) and are not here."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms as django_forms
from django.urls import reverse

from ..models import Postmortem
from . import forms


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    form: type[forms.SectionForm]


SECTIONS: dict[str, Section] = {
    section.key: section
    for section in (
        Section("summary", "Summary", forms.SummaryForm),
        Section("root_cause", "Root Cause", forms.RootCauseForm),
        Section("impact", "Impact", forms.ImpactForm),
        Section("what_went_well", "What Went Well", forms.WentWellForm),
        Section("what_could_be_improved", "What Could Be Improved", forms.ImprovedForm),
        Section("lessons_learned", "Lessons Learned", forms.LessonsForm),
        Section("public_summary", "Public summary", forms.PublicSummaryForm),
    )
}


def initial(postmortem: Postmortem, section: Section) -> dict:
    """The form's starting values, from the stored document."""
    values = {name: getattr(postmortem, name) for name in section.form.base_fields}
    if "contributing_factors" in values:
        values["contributing_factors"] = "\n".join(values["contributing_factors"] or [])
    if "services_affected" in values:
        values["services_affected"] = ", ".join(values["services_affected"] or [])
    return values


@dataclass
class SectionView:
    """One section on the page: read, or edited (``form`` set)."""

    section: Section
    form: django_forms.Form | None = None
    # Markdown fields' rendered previews: [(bound field, text)].
    previews: list = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.section.key

    @property
    def title(self) -> str:
        return self.section.title


def editor(
    postmortem: Postmortem, section: Section, data=None
) -> tuple[django_forms.Form, list[tuple]]:
    """The section's form (bound to ``data`` when posted) with every Markdown
    textarea wired to the live preview, and each preview's text."""
    form = section.form(data, initial=initial(postmortem, section))
    form.auto_id = f"{section.key}-%s"
    url = reverse("postmortems:preview", args=[postmortem.pk])
    previews = []
    for name, form_field in form.fields.items():
        if "pm-markdown" not in form_field.widget.attrs.get("class", ""):
            continue
        bound = form[name]
        target = f"preview-{bound.auto_id}"
        form_field.widget.attrs.update(
            {
                "hx-post": f"{url}?field={name}",
                "hx-trigger": "input changed delay:300ms",
                "hx-target": f"#{target}",
                "hx-swap": "innerHTML",
                "aria-controls": target,
            }
        )
        text = bound.value() if data is not None else form.initial.get(name, "")
        previews.append((bound, target, text or ""))
    return form, previews
