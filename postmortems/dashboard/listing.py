"""/postmortems/: every post-mortem with search and filters, and the
follow-up backlog (open and overdue action items per owner and per
service, and the open count at the end of each of the last 12 weeks)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from incidents import clock
from incidents import selectors as incident_selectors

from .. import selectors
from .forms import ListFilterForm
from .page import view_required

PER_PAGE = 50
# The trend chart's drawing box (SVG user units).
CHART_WIDTH, CHART_HEIGHT = 600, 140


def _filters(form: ListFilterForm) -> selectors.ListFilters:
    if not form.is_valid():
        return selectors.ListFilters()
    data = form.cleaned_data
    return selectors.ListFilters(
        q=data["q"].strip(),
        severity=data["severity"],
        service=data["service"],
        status=data["status"],
        overdue=data["overdue"] == "yes",
    )


def chart(backlog: selectors.Backlog) -> list[dict]:
    """The trend's bars, in the SVG's units: open (with its overdue part)
    per week, scaled to the highest week."""
    top = max(backlog.trend_max, 1)
    slot = CHART_WIDTH / max(len(backlog.trend), 1)
    bars = []
    for index, point in enumerate(backlog.trend):
        height = round(point.open / top * (CHART_HEIGHT - 20), 1)
        overdue = round(point.overdue / top * (CHART_HEIGHT - 20), 1)
        bars.append(
            {
                "point": point,
                "x": round(index * slot + slot * 0.15, 1),
                "width": round(slot * 0.7, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "height": height,
                "overdue_y": round(CHART_HEIGHT - overdue, 1),
                "overdue_height": overdue,
                "label_x": round(index * slot + slot / 2, 1),
                "label_y": round(CHART_HEIGHT - height - 4, 1),
            }
        )
    return bars


@require_safe
@view_required
def postmortem_list(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    form = ListFilterForm(request.GET or None, services=incident_selectors.service_names())
    filters = _filters(form)
    paginator = Paginator(selectors.postmortem_list(filters, now=now), PER_PAGE)
    found = paginator.get_page(request.GET.get("page"))
    backlog = selectors.backlog(now=now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter_form": form,
        "filtered": filters.narrows,
        "page_obj": found,
        "postmortems": list(found.object_list),
        "backlog": backlog,
        "bars": chart(backlog),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT},
        "query": query.urlencode(),
        "now": now,
    }
    template = "postmortems/_list.html" if request.htmx else "postmortems/list.html"
    return render(request, template, context)
