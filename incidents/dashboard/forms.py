"""Dashboard forms. They check the shape of the input only; the guide's rules
(required root cause, legal transitions, …) live in the services, whose
``DomainError`` the views attach to the field it names."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from ..models import (
    OPEN_STATUS_CHOICES,
    EscalationPath,
    Role,
    Severity,
    SeverityPolicy,
    Source,
    Visibility,
)
from ..request_guards import REFUSED_KEY
from ..selectors import IncidentFilters


class DashboardForm(forms.Form):
    """A form the dashboard posts. A body the request guard cut short (over
    1 MiB or too many fields, ``incidents.request_guards``) is never valid:
    the page shows again with the reason on top and the text that fitted."""

    def clean(self):
        cleaned = super().clean()
        if message := self.data.get(REFUSED_KEY):
            raise forms.ValidationError(message, code="too_large")
        return cleaned


def _textarea(rows: int, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


def active_people():
    return get_user_model().objects.filter(is_active=True).order_by("first_name", "username")


class DeclareForm(DashboardForm):
    title = forms.CharField(
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "placeholder": "What is broken, in a few words",
            }
        ),
    )
    severity = forms.ChoiceField(choices=Severity.choices, widget=forms.RadioSelect)
    summary = forms.CharField(
        required=False,
        widget=_textarea(3),
        help_text="What you see: symptoms, error rates, alerts.",
    )
    impact = forms.CharField(
        required=False, widget=_textarea(2), help_text="Who is affected and how."
    )
    services = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. api, checkout.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "api, checkout"}),
    )
    source = forms.ChoiceField(choices=Source.choices, initial=Source.TEAM_MEMBER)
    customer_impacting = forms.BooleanField(required=False, label="Customers are affected")
    is_drill = forms.BooleanField(required=False, label="This is a drill")

    def __init__(self, *args, policies: dict[str, SeverityPolicy] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Each choice carries the guide's name and response time as its help.
        self.policies = policies or {}

    def severity_options(self) -> list[dict]:
        field = self["severity"]
        selected = field.value()
        return [
            {
                "value": value,
                "label": label,
                "policy": self.policies.get(value),
                "id": f"{field.auto_id}_{index}",
                "checked": selected == value,
            }
            for index, (value, label) in enumerate(Severity.choices)
        ]

    def clean_services(self) -> list[str]:
        raw = self.cleaned_data["services"]
        names = [part.strip() for part in raw.split(",")]
        return list(dict.fromkeys(name for name in names if name))


class UpdateForm(DashboardForm):
    message = forms.CharField(
        required=False,
        widget=_textarea(
            3,
            required=True,
            placeholder="What changed, what is next, when the next update is due. Markdown works.",
        ),
    )
    status = forms.ChoiceField(choices=OPEN_STATUS_CHOICES)
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.INTERNAL, widget=forms.RadioSelect
    )


class AssignRoleForm(DashboardForm):
    role = forms.ChoiceField(choices=Role.choices)
    user = PersonChoiceField(queryset=active_people(), label="Person", empty_label="Choose…")


class RelieveRoleForm(DashboardForm):
    role = forms.ChoiceField(choices=Role.choices)
    user = forms.ModelChoiceField(queryset=get_user_model().objects.all())


class StatusForm(DashboardForm):
    status = forms.ChoiceField(choices=OPEN_STATUS_CHOICES, label="New status")
    note = forms.CharField(required=False, widget=_textarea(2), label="Note (optional)")


class SeverityForm(DashboardForm):
    severity = forms.ChoiceField(choices=Severity.choices, label="New severity")
    reason = forms.CharField(required=False, widget=_textarea(2), label="Reason")


class EscalateForm(DashboardForm):
    path = forms.ChoiceField(
        choices=EscalationPath.choices,
        initial=EscalationPath.TECHNICAL,
        label="Path",
        help_text="Technical: the next engineering level. Business: support lead, then up.",
    )
    # Required by the service, which says so in the same words everywhere.
    reason = forms.CharField(
        required=False, widget=_textarea(2, required=True), label="Why escalate?"
    )


class MitigateForm(DashboardForm):
    note = forms.CharField(required=False, widget=_textarea(2), label="What stopped the impact?")


class ResolveForm(DashboardForm):
    # Required by the service (the resolution notice needs it); the form
    # leaves the check to it so the API and the dashboard say the same thing.
    root_cause = forms.CharField(required=False, widget=_textarea(2, required=True))
    resolution = forms.CharField(
        required=False, widget=_textarea(2), label="Resolution (what fixed it)"
    )
    false_positive = forms.BooleanField(required=False, label="False positive (nothing was wrong)")


class ReopenForm(DashboardForm):
    reason = forms.CharField(
        required=False, widget=_textarea(2, required=True), label="Why reopen?"
    )


class BoardFilterForm(forms.Form):
    severity = forms.ChoiceField(
        required=False, choices=[("", "All severities"), *Severity.choices]
    )
    status = forms.ChoiceField(required=False, choices=[("", "All statuses"), *OPEN_STATUS_CHOICES])
    service = forms.ChoiceField(required=False, choices=[("", "All services")])
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Ref, title or alert"}),
    )

    def __init__(self, *args, services: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "All services"), *((s, s) for s in services)]

    def filters(self) -> IncidentFilters:
        """The board's choices as the filters the API's parameters make too."""
        if not self.is_valid():
            return IncidentFilters()
        data = self.cleaned_data
        return IncidentFilters(
            severities=[data["severity"]] if data["severity"] else None,
            statuses=[data["status"]] if data["status"] else None,
            service=data["service"] or None,
            q=data["q"] or None,
        )


class OverrideForm(DashboardForm):
    """Someone covers a window of a schedule. Times are wall-clock times in
    the schedule's time zone (the view makes them aware)."""

    user = PersonChoiceField(queryset=active_people(), label="Who covers", empty_label="Choose…")
    starts_at = forms.DateTimeField(
        label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="Until", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(
        required=False, max_length=200, label="Reason (optional)", help_text="Holiday, swap, …"
    )

    def __init__(self, *args, zone, actor, may_cover_others: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        if not may_cover_others:
            # A responder is offered only themselves; the rule (and the
            # refusal of anyone else) is ``services.override_add``'s.
            person = self.fields["user"]
            person.widget.choices = [(actor.pk, person.label_from_instance(actor))]
            person.initial = actor.pk
        tz = getattr(zone, "key", str(zone))
        for name in ("starts_at", "ends_at"):
            self.fields[name].help_text = f"Time in {tz}."

    def _aware(self, name: str):
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        # The form's parser made it aware in Django's zone; read the wall
        # clock the person typed as the schedule's.
        return value.replace(tzinfo=None).replace(tzinfo=self.zone)

    def clean_starts_at(self):
        return self._aware("starts_at")

    def clean_ends_at(self):
        return self._aware("ends_at")
