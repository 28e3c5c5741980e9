"""The post-mortem page's forms. They check shape only (a date parses, a
rating is a number); whether a value is allowed is the services' question
(docs/architecture.md), and their ``DomainError`` lands beside the field."""

from __future__ import annotations

from django import forms

from incidents.errors import DomainError
from incidents.models import Severity

from ..models import ActionKind, ActionStatus, PostmortemStatus, Priority
from ..services import REVIEW_CHECKLIST

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def attach_error(form: forms.Form, err: DomainError) -> None:
    """A service's error at the field it names, or above the form."""
    form.add_error(err.field if err.field in form.fields else None, err.message)


def _markdown(label: str, rows: int = 6, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text or "Markdown: **bold**, lists, links, `code`.",
        widget=forms.Textarea(attrs={"rows": rows, "class": "pm-markdown"}),
    )


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class SectionForm(forms.Form):
    """A section of the guide's template; ``service_kwargs`` is what
    ``postmortem_update`` takes."""

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class SummaryForm(SectionForm):
    summary = _markdown("Summary", help_text="Two or three sentences: what happened and to whom.")


class RootCauseForm(SectionForm):
    root_cause = _markdown("Root cause", help_text="The one cause that, fixed, stops it recurring.")
    contributing_factors = forms.CharField(
        label="Contributing factors",
        required=False,
        help_text="One per line: what made it likelier, worse or longer.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    resolution = _markdown("Resolution", rows=3, help_text="What ended the impact.")

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["contributing_factors"] = data["contributing_factors"].splitlines()
        return data


class ImpactForm(SectionForm):
    users_affected = forms.CharField(
        label="Users affected",
        required=False,
        help_text="How many and who, e.g. “about 3 % of sign-ins”.",
    )
    services_affected = forms.CharField(
        label="Services affected", required=False, help_text="Comma-separated service names."
    )
    data_loss = forms.BooleanField(label="Data was lost", required=False)
    data_loss_details = forms.CharField(
        label="Data loss details",
        required=False,
        help_text="Required when data was lost: what, how much, recovered or not.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    impact = _markdown("Impact in detail", rows=4)

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["services_affected"] = data["services_affected"].split(",")
        return data


class WentWellForm(SectionForm):
    what_went_well = _markdown("What went well", help_text="One point per line (or a list).")


class ImprovedForm(SectionForm):
    what_could_be_improved = _markdown(
        "What could be improved", help_text="One point per line; blameless: systems, not people."
    )


class LessonsForm(SectionForm):
    lessons_learned = _markdown("Lessons learned")


class PublicSummaryForm(SectionForm):
    public_summary = _markdown(
        "Public summary",
        rows=4,
        help_text="What customers read on the status page once it is published "
        "(public incidents only). No internal names or details.",
    )


class TimelineEntryForm(forms.Form):
    at = forms.DateTimeField(
        label="Time", input_formats=DATETIME_FORMATS, widget=DateTimeInput(attrs={"step": 60})
    )
    text = forms.CharField(label="What happened", required=False, max_length=2000)


class MeetingForm(forms.Form):
    meeting_at = forms.DateTimeField(
        label="Meeting time",
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeInput(),
        help_text="The guide: within 48 hours of the resolution. Participants get an invitation.",
    )
    participants = forms.MultipleChoiceField(
        label="Participants", required=False, widget=forms.SelectMultiple(attrs={"size": 5})
    )

    def __init__(self, *args, usernames: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].choices = usernames


class ReviewersForm(forms.Form):
    reviewers = forms.MultipleChoiceField(
        label="Reviewers",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text="Optional. Publishing waits for each one's sign-off.",
    )

    def __init__(self, *args, usernames: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].choices = usernames


class SignOffForm(forms.Form):
    comment = forms.CharField(
        label="Comment (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, text in REVIEW_CHECKLIST.items():
            self.fields[key] = forms.BooleanField(label=text, required=False)
        # The checklist first, then the comment.
        self.order_fields([*REVIEW_CHECKLIST, "comment"])

    def checklist(self) -> dict:
        return {key: bool(self.cleaned_data.get(key)) for key in REVIEW_CHECKLIST}


RATINGS = [(str(n), str(n)) for n in range(1, 6)]


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did the response go? (1 poor to 5 great)",
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
    )
    went_well = forms.CharField(
        label="What went well", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    could_improve = forms.CharField(
        label="What could improve", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    anonymous = forms.BooleanField(label="Give it anonymously", required=False)


OVERDUE = [("", "Any due time"), ("yes", "Overdue only")]


class ListFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    severity = forms.ChoiceField(
        label="Severity", required=False, choices=[("", "Any severity"), *Severity.choices]
    )
    service = forms.ChoiceField(label="Service", required=False)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *PostmortemStatus.choices]
    )
    overdue = forms.ChoiceField(label="Due", required=False, choices=OVERDUE)

    def __init__(self, *args, services: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", "Any service"), *((s, s) for s in services)]
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Incident title, reference or summary", "type": "search"}
        )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ActionItemForm(forms.Form):
    """A new action item; the service says what is missing (owner, due date)."""

    title = forms.CharField(label="Action", required=False, max_length=300)
    owner = forms.ChoiceField(label="Owner", required=False)
    due_date = forms.DateField(label="Due", required=False, widget=DateInput())
    priority = forms.ChoiceField(
        label="Priority", choices=Priority.choices, initial=Priority.MEDIUM
    )
    kind = forms.ChoiceField(label="Kind", choices=ActionKind.choices, initial=ActionKind.FIX)

    def __init__(self, *args, usernames: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Who will do it?"), *usernames]
        self.fields["title"].widget.attrs["placeholder"] = "e.g. Alert on pool saturation"


class ActionItemRowForm(forms.Form):
    """One item's status, owner and due date, changed from its row."""

    status = forms.ChoiceField(label="Status", choices=ActionStatus.choices)
    owner = forms.ChoiceField(label="Owner", required=False)
    due_date = forms.DateField(label="Due", required=False, widget=DateInput())

    def __init__(self, *args, usernames: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Unassigned"), *usernames]

    def changes(self) -> dict:
        return dict(self.cleaned_data)
