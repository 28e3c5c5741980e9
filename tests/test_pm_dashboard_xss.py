"""Markdown with ``<script>``, ``javascript:`` links and event-handler
attributes, written into every text section, renders harmless on the
post-mortem page, in its live preview and on the print page."""

from __future__ import annotations

import re

import pytest

from postmortems import services
from tests.pm_dash_support import HOSTILE, HTMX, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

TEXTS = (
    "summary",
    "root_cause",
    "impact",
    "what_went_well",
    "what_could_be_improved",
    "lessons_learned",
    "public_summary",
    "resolution",
)


def harmless(html: str) -> None:
    """No script of the author's, no handler attribute, no javascript: URL
    and no image in any tag (escaped text showing them is fine)."""
    assert not re.search(r"<script>alert", html, re.I)
    assert not re.search(r"<[a-z][^>]*\son\w+\s*=", html, re.I)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*javascript:", html, re.I)
    assert not re.search(r"<img", html, re.I)


@pytest.fixture
def hostile(bob):
    postmortem = resolved_postmortem(bob)
    services.postmortem_update(
        actor=bob,
        postmortem=postmortem,
        contributing_factors=[HOSTILE.splitlines()[0]],
        users_affected="<script>alert(1)</script>",
        **{name: HOSTILE for name in TEXTS},
    )
    services.timeline_entry_add(
        actor=bob, postmortem=postmortem, at=postmortem.due_at, text="<img src=x onerror=alert(2)>"
    )
    return postmortem


def test_the_page_renders_hostile_markdown_harmless(hostile, bob, client_for):
    html = client_for(bob).get(url("detail", hostile.pk)).content.decode()
    harmless(html)
    assert "click me" in html  # the words stay, the link's script does not
    assert "&lt;script&gt;" in html  # plain-text fields are escaped


def test_the_print_page_renders_hostile_markdown_harmless(hostile, bob, client_for):
    html = client_for(bob).get(url("print", hostile.pk)).content.decode()
    harmless(html)
    assert "click me" in html


def test_the_preview_renders_hostile_markdown_harmless(hostile, bob, client_for):
    response = client_for(bob).post(
        url("preview", hostile.pk) + "?field=summary", {"summary": HOSTILE}, **HTMX
    )
    harmless(response.content.decode())


def test_an_open_editor_keeps_the_text_escaped(hostile, bob, client_for):
    html = client_for(bob).get(url("section-edit", hostile.pk, "summary"), **HTMX).content.decode()
    # Inside the textarea the text is escaped; the preview below it is sanitised.
    assert "&lt;script&gt;alert" in html
    preview = html.split('class="prose pm-preview__body"', 1)[1]
    harmless(preview)
