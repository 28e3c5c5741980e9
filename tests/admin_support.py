"""Helpers for the admin's tests: its URLs, its messages, the POST a browser
would send for a change page as rendered, and ``T0``, where the clock of a
module that imports it and uses conftest's ``frozen`` stands."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.contrib.messages import get_messages
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from incidents.models import Integration
from tests.page_support import text

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_errors(response) -> dict:
    """What a refused change page says beside its form's fields: the page
    comes back (200, no redirect) with ``{field: [message, …]}``."""
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


def refused_add(client: Client, model, data: dict) -> str:
    """POST ``data`` to ``model``'s add page, which must refuse it: the page
    comes back (200) and no row was added; the page's text, which says why."""
    before = model.objects.count()
    response = client.post(url(model, "add"), data)
    assert response.status_code == 200, response.status_code
    assert model.objects.count() == before
    return text(response)


def messages_of(response) -> list[str]:

    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(response) -> dict:
    """The POST body a browser sends for an admin change page as shown: the
    form, every inline's management form and rows (split date/time fields too)."""
    data: dict = {}

    def add(form) -> None:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            widget = field.field.widget
            if isinstance(widget, MultiWidget):
                for index, part in enumerate(widget.decompress(value)):
                    data[f"{field.html_name}_{index}"] = "" if part is None else str(part)
            elif value is True:
                data[field.html_name] = "on"
            else:
                data[field.html_name] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        for field in inline.formset.management_form:
            data[field.html_name] = field.value()
        for form in inline.formset.forms:
            add(form)
    return data


def with_row(data: dict, prefix: str, row: dict) -> dict:
    """``data`` with one more row in the inline ``prefix``."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    return {
        **data,
        f"{prefix}-TOTAL_FORMS": str(index + 1),
        **{f"{prefix}-{index}-{name}": value for name, value in row.items()},
    }


def inline_rows(prefix: str, *rows: dict) -> dict:
    """The POST data of the inline ``prefix`` holding ``rows`` and nothing
    before them (an add page's, or a change page's with no rows yet)."""
    data = {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    for row in rows:
        data = with_row(data, prefix, row)
    return data


def empty_inlines(*prefixes: str) -> dict:
    """The POST data of the inlines ``prefixes``, each left empty."""
    return {name: value for prefix in prefixes for name, value in inline_rows(prefix).items()}


def inline_prefix(response, form_class) -> str:

    for inline in response.context["inline_admin_formsets"]:
        if issubclass(inline.formset.form, form_class):
            return inline.formset.prefix
    raise AssertionError(f"no inline with {form_class.__name__}")


def add_integration(client: Client, **fields):
    """POST the admin's add page of an integration: a generic one named
    "new", with ``fields`` (``severity_mapping`` as a dict)."""
    form = {
        "name": "new",
        "kind": "generic",
        "default_service": "",
        "severity_mapping": {},
        "enabled": "on",
        "rate_limit_per_minute": 1200,
    }
    return client.post(url(Integration, "add"), integration_form({**form, **fields}))


def change_integration(client: Client, integration: Integration, **changes):
    """POST ``integration``'s admin change page with ``changes``
    (``severity_mapping`` as a dict)."""
    form = {
        "name": integration.name,
        "default_service": "",
        "severity_mapping": integration.severity_mapping,
        "auto_acknowledge": "on",
        "auto_resolve": "on",
        "enabled": "on",
        "rate_limit_per_minute": integration.rate_limit_per_minute,
    }
    return client.post(
        url(Integration, "change", integration.pk), integration_form({**form, **changes})
    )


def integration_form(fields: dict) -> dict:
    """An integration's admin form as posted: its severity mapping as JSON text."""
    return {**fields, "severity_mapping": json.dumps(fields["severity_mapping"])}
