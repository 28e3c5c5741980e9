"""Content-Security-Policy (django-csp): every page says where its code may
come from, and no page carries the inline script or style that the policy
would have to allow with 'unsafe-inline'. The browser tests
(tests/test_browser.py) prove the pages still work under it."""

from __future__ import annotations

import io
import json
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from incidents import ack_links
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
# Mail clients ignore <style> and linked sheets, so email HTML must be inline.
EMAIL_TEMPLATES = {"incidents/templates/notify/email.html"}

POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def _directives(header: str) -> dict[str, set[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: set(part[1:]) for part in parts}


class _InlineCode(HTMLParser):
    """What in a page the policy refuses: inline <script>, <style>, style=""
    and on*="" attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        # A JSON data block is never executed (Django admin's json_script).
        if (
            tag == "script"
            and not names.get("src")
            and names.get("type") not in ("application/json", "application/ld+json")
        ):
            self.found.append(self.get_starttag_text())
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or re.fullmatch(r"on[a-z]+", name):
                self.found.append(self.get_starttag_text())
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(self.get_starttag_text())


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def pages(db, alice, bob, vera):
    incident = factories.declare(actor=bob, title="Checkout 500s")
    return {
        "board": (alice, "/"),
        "incident": (alice, incident.get_absolute_url()),
        "declare": (bob, reverse("incidents:declare")),
        "oncall": (bob, reverse("incidents:oncall")),
        "me": (bob, reverse("incidents:me")),
        "login": (None, reverse("login")),
        "ack link": (None, ack_links.url_for(incident, bob).split("://", 1)[1].split("/", 1)[1]),
        "not found": (alice, "/incidents/NOPE-1/"),
        "forbidden": (vera, reverse("incidents:declare")),
        "admin index": (alice, reverse("admin:index")),
        "admin change list": (alice, reverse("admin:incidents_incident_changelist")),
        "admin change form": (
            alice,
            reverse("admin:incidents_incident_change", args=[incident.pk]),
        ),
        "admin engine status": (alice, reverse("admin:engine-status")),
        "api docs": (alice, "/api/docs/"),
        "browsable api": (alice, f"/api/v1/incidents/{incident.ref}/"),
    }


PAGE_NAMES = [
    "board",
    "incident",
    "declare",
    "oncall",
    "me",
    "login",
    "ack link",
    "not found",
    "forbidden",
    "admin index",
    "admin change list",
    "admin change form",
    "admin engine status",
    "api docs",
    "browsable api",
]


def _get(client, pages, name):
    user, path = pages[name]
    if not path.startswith("/"):
        path = "/" + path
    if user is not None:
        client.force_login(user)
    response = client.get(path, HTTP_ACCEPT="text/html")
    expected = {"not found": 404, "forbidden": 403}.get(name, 200)
    assert response.status_code == expected, (name, path, response.status_code)
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
    return response


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_sends_the_content_security_policy(client, pages, name):
    response = _get(client, pages, name)
    header = response["Content-Security-Policy"]
    directives = _directives(header)
    for directive, sources in POLICY.items():
        assert directives.get(directive) == sources, (directive, header)
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "'nonce-"):
        assert loose not in header.split() and loose + "'" not in header, header
    assert "nonce-" not in header
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_no_page_carries_inline_script_or_style(client, pages, name):
    """Rendered pages, including those of the admin, drf-spectacular and DRF
    whose templates are not ours to scan."""
    response = _get(client, pages, name)
    assert _inline_code(response.content.decode()) == []


def test_the_api_docs_init_script_is_same_origin_javascript(client, alice):
    client.force_login(alice)
    page = client.get("/api/docs/").content.decode()
    match = re.search(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', page)
    assert match, page
    script = client.get(match.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()


def test_htmx_neither_injects_styles_nor_evaluates_attributes(client, alice):
    """htmx adds an inline <style> for its indicators, evaluates hx-on and
    filters, and copies style attributes unless told not to; the policy would
    refuse all three."""
    client.force_login(alice)
    html = client.get("/").content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert meta, "no htmx-config meta"
    config = json.loads(meta.group(1))
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    # Settling copies the old element's attributes with setAttribute: a style
    # the browser set (a resized textarea) would be refused.
    assert "style" not in config["attributesToSettle"]
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-request .htmx-indicator" in css


def _templates() -> list[Path]:
    found = []
    for folder in ("templates", "incidents", "postmortems", "statuspage", "treebeard_ir"):
        found += sorted((ROOT / folder).rglob("*.html"))
    return found


def _strip_template_comments(text: str) -> str:
    # {# #} ends on its line in Django; a longer one is page text.
    text = re.sub(r"\{#.*?#\}", "", text)
    return re.sub(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", text, flags=re.S)


INLINE_IN_TEMPLATES = [
    (
        re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on* event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    # htmx features that evaluate code need 'unsafe-eval'.
    (re.compile(r"\s(data-)?hx-on", re.I), "hx-on handler"),
    (re.compile(r"\s(data-)?hx-(vals|vars)\s*=\s*['\"]\s*(js|javascript):", re.I), "hx-vals js:"),
    (re.compile(r"\s(data-)?hx-vars\s*=", re.I), "hx-vars (always evaluated)"),
    (re.compile(r"\s(data-)?hx-trigger\s*=\s*['\"][^'\"]*\[", re.I), "hx-trigger filter"),
]


def test_templates_have_no_inline_script_style_or_handlers():
    templates = _templates()
    assert any(p.name == "base.html" for p in templates)
    problems = []
    for path in templates:
        relative = path.relative_to(ROOT).as_posix()
        if relative in EMAIL_TEMPLATES:
            continue
        text = _strip_template_comments(path.read_text())
        for pattern, what in INLINE_IN_TEMPLATES:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{relative}:{line}: {what}: {match.group(0).strip()}")
    assert problems == []


def test_the_template_scan_catches_each_kind_of_inline_code():
    samples = [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<p style="color:red">',
        '<a href="#" onclick="go()">',
        '<a href="javascript:go()">',
        '<button hx-on:click="go()">',
        "<div hx-vals='js:{a: 1}'>",
        '<div hx-trigger="keyup[ctrlKey]">',
    ]
    for sample in samples:
        assert any(p.search(sample) for p, _ in INLINE_IN_TEMPLATES), sample
    allowed = '<script src="/static/js/app.js" defer></script><div hx-trigger="every 10s">'
    assert not any(p.search(allowed) for p, _ in INLINE_IN_TEMPLATES)


def test_python_that_renders_html_has_no_inline_script_or_style():
    """format_html in template tags and the admin: string literals only, so
    comments that explain the policy do not count."""
    problems = []
    for folder in ("incidents", "postmortems", "statuspage", "treebeard_ir"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            for token in tokenize.generate_tokens(io.StringIO(source).readline):
                if token.type != tokenize.STRING:
                    continue
                for pattern, what in INLINE_IN_TEMPLATES[:4]:
                    if pattern.search(token.string):
                        relative = path.relative_to(ROOT).as_posix()
                        problems.append(f"{relative}:{token.start[0]}: {what}")
    assert problems == []


def _admin_pages():
    from django.contrib import admin

    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield pytest.param(model, name, id=model.__name__)


@pytest.mark.parametrize(("model", "name"), list(_admin_pages()))
def test_no_admin_page_carries_inline_script_or_style(client, pages, model, name):
    """Every model's change list, add form and a change form: Django's admin
    inlines a <style> in some (a change list without actions), ours must not.
    A superuser, who may open every one of them."""
    client.force_login(factories.UserFactory(username="root", is_staff=True, is_superuser=True))
    paths = [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
    first = model.objects.order_by("pk").first()
    if first is not None:
        paths.append(reverse(f"{name}_change", args=[first.pk]))
    opened = 0
    for path in paths:
        response = client.get(path)
        if response.status_code == 403:  # adding is refused for some models
            continue
        assert response.status_code == 200, (path, response.status_code)
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert _inline_code(response.content.decode()) == [], path
        opened += 1
    assert opened >= 1
