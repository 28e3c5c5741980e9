"""Helpers for the admin's tests: its URLs, its messages, and the POST a
browser would send for a change page as rendered."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(response) -> dict:
    """The POST body a browser would send for the change form as rendered:
    the main form's values plus every inline's management form and rows."""
    data: dict = {}

    def add(form) -> None:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for field in formset.management_form:
            data[field.html_name] = field.value()
        for form in formset.forms:
            add(form)
    return data


def inline_prefix(response, form_class) -> str:
    for inline in response.context["inline_admin_formsets"]:
        if issubclass(inline.formset.form, form_class):
            return inline.formset.prefix
    raise AssertionError(f"no inline with {form_class.__name__}")
