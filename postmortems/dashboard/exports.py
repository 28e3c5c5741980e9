"""The post-mortem as a download: the guide's Markdown, and a printable page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .. import export, selectors
from .page import view_required
from .sections import SECTIONS


@require_safe
@view_required
def markdown(request: HttpRequest, pk: int) -> HttpResponse:
    postmortem = selectors.postmortem_page(pk)
    response = HttpResponse(
        export.markdown(postmortem), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename(postmortem)}"'
    return response


@require_safe
@view_required
def printable(request: HttpRequest, pk: int) -> HttpResponse:
    """Every section rendered (Markdown sanitised by the ``markdown`` filter),
    laid out for paper by its print stylesheet."""
    postmortem = selectors.postmortem_page(pk)
    context = {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "sections": SECTIONS,
        "timeline": list(postmortem.timeline.all()),
        "action_items": list(postmortem.action_items.all()),
    }
    return render(request, "postmortems/print.html", context)
