"""The status-page screen's forms. They check the shape of the input only;
what is allowed (who may publish, the statuses, required text, drills) is
the services' question, and their ``DomainError`` goes beside the field it
names (``attach_error``)."""

from __future__ import annotations

from django import forms

from ..models import ComponentStatus, Impact, PublicStatus
from ..services.incidents import POSTABLE
from .wording import unfilled

NO_CHANGE = ""
# A service's field name → the form's, where they differ.
FIELD_ALIASES = {"name": "title", "public_summary": "body"}


def _textarea(rows: int, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def attach_error(form: forms.Form, err) -> None:
    """A service's error at the field it names (or above the form)."""
    field = FIELD_ALIASES.get(err.field, err.field)
    form.add_error(field if field in form.fields else None, err.message)


class ComponentsMixin:
    """One "no change / status" choice per component, posted as
    ``component_<code>``; ``components_value()`` is what the services take."""

    def add_component_fields(self, components) -> None:
        self.components = list(components)
        choices = [(NO_CHANGE, "No change"), *ComponentStatus.choices]
        for component in self.components:
            self.fields[f"component_{component.code}"] = forms.ChoiceField(
                choices=choices, required=False, label=component.name
            )

    def component_rows(self) -> list[tuple]:
        """(component, bound field) for the template."""
        return [(c, self[f"component_{c.code}"]) for c in self.components]

    def components_value(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {"id": c.code, "status": data[f"component_{c.code}"]}
            for c in self.components
            if data.get(f"component_{c.code}")
        ]


class _NoPlaceholders:
    text_field = ""

    def clean(self):
        cleaned = super().clean()
        text = cleaned.get(self.text_field) or ""
        if placeholder := unfilled(text):
            self.add_error(
                self.text_field,
                f"Replace {placeholder} with your own words before it goes public.",
            )
        return cleaned


class PublishForm(_NoPlaceholders, ComponentsMixin, forms.Form):
    text_field = "message"

    title = forms.CharField(
        required=False,
        label="Public title",
        help_text="What customers read; never the internal title.",
        widget=forms.TextInput(
            attrs={
                "required": True,
                "autocomplete": "off",
                "placeholder": "e.g. Checkout errors for some customers",
            }
        ),
    )
    impact = forms.ChoiceField(choices=Impact.choices, label="Impact")
    message = forms.CharField(
        required=False,
        label="First update",
        widget=_textarea(4, required=True),
    )

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(components)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "impact": data["impact"],
            "message": data["message"],
            "components": self.components_value(),
        }


class PublicUpdateForm(_NoPlaceholders, ComponentsMixin, forms.Form):
    text_field = "body"

    status = forms.ChoiceField(choices=[(s, PublicStatus(s).label) for s in POSTABLE])
    body = forms.CharField(
        required=False, label="Public update", widget=_textarea(5, required=True)
    )

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(components)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "body": data["body"],
            "components": self.components_value(),
        }


class ComponentStatusForm(forms.Form):
    # Which statuses exist is the service's question (it names "components").
    status = forms.CharField(max_length=40)


class PreviewForm(ComponentsMixin, forms.Form):
    """A draft as it would be shown: lenient, nothing here is saved."""

    title = forms.CharField(required=False)
    impact = forms.CharField(required=False)
    status = forms.CharField(required=False)
    message = forms.CharField(required=False)
    body = forms.CharField(required=False)

    def __init__(self, *args, components=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.add_component_fields(components)
