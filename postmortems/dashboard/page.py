"""What the post-mortem page shows, and how its views answer (a whole page,
or with htmx the part that changed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents import clock
from incidents import selectors as incident_selectors
from incidents.people import display_name

from .. import access, selectors, services
from ..models import Postmortem, PostmortemStatus, Tracker
from . import forms
from .sections import SECTIONS, SectionView, editor


def view_required(view: Callable) -> Callable:
    """Anonymous → the sign-in page (htmx: the whole window goes there);
    signed in without the right to read → 403. What a person may change is
    the services' question (``postmortems.access``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            response = redirect_to_login(request.get_full_path())
            if request.htmx:
                hx = HttpResponse(status=204)
                hx["HX-Redirect"] = response["Location"]
                return hx
            return response
        if not access.can_view(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def usernames(people: list) -> list[tuple[str, str]]:
    return [(person.username, display_name(person)) for person in people]


def _primary(postmortem: Postmortem, *, lead: bool, my_review, missing, waiting) -> str | None:
    """The guide's next step is the button that stands out (UI.md)."""
    if postmortem.status == PostmortemStatus.DRAFT:
        return "submit" if lead else None
    if postmortem.status == PostmortemStatus.IN_REVIEW:
        if my_review is not None and my_review.signed_off_at is None:
            return "sign_off"
        if lead and not missing and not waiting:
            return "publish"
    return None


def page_context(
    request: HttpRequest,
    postmortem: Postmortem,
    *,
    editing: str | None = None,
    bound: dict | None = None,
    error: str | None = None,
    **extra,
) -> dict:
    """Everything the page shows. ``editing`` opens a section's form (its
    posted form and previews in ``bound[key]`` when it was refused); ``bound`` holds the
    side forms as they were sent (``timeline``, ``meeting``, ``reviewers``,
    ``sign_off``, ``feedback``); ``error`` is a workflow refusal; ``extra``
    goes to the template as it is."""
    bound = bound or {}
    user = request.user
    now = clock.now()
    people = selectors.people()
    names = usernames(people)
    writable = postmortem.status != PostmortemStatus.PUBLISHED
    may_write = access.can_respond(user) and writable
    lead = access.can_lead(user, postmortem)
    reviews = list(postmortem.reviews.all())
    my_review = next((r for r in reviews if r.reviewer_id == user.pk), None)
    waiting = [r for r in reviews if r.signed_off_at is None]
    missing = services.missing_for_publishing(postmortem)

    sections = {}
    for key, section in SECTIONS.items():
        shown = SectionView(section)
        if key in bound:  # refused: the form as it was sent, its error beside the field
            shown.form, shown.previews = bound[key]
        elif editing == key and may_write:
            shown.form, shown.previews = editor(postmortem, section)
        sections[key] = shown

    meeting = bound.get("meeting") or forms.MeetingForm(
        initial={
            "meeting_at": postmortem.meeting_at,
            "participants": [p.username for p in postmortem.participants.all()],
        },
        usernames=names,
    )
    reviewers = bound.get("reviewers") or forms.ReviewersForm(
        initial={"reviewers": [r.reviewer.username for r in reviews]},
        usernames=[(u, n) for u, n in names if u != getattr(postmortem.owner, "username", None)],
    )
    for form, prefix in ((meeting, "meeting"), (reviewers, "reviewers")):
        form.auto_id = f"{prefix}-%s"
    timeline_form = bound.get("timeline") or forms.TimelineEntryForm(
        initial={"at": postmortem.incident.resolved_at or now}
    )
    timeline_form.auto_id = "entry-%s"
    sign_off = bound.get("sign_off") or forms.SignOffForm()
    sign_off.auto_id = "signoff-%s"
    feedback = bound.get("feedback") or forms.FeedbackForm()
    feedback.auto_id = "feedback-%s"
    late = postmortem.status != PostmortemStatus.PUBLISHED and now > postmortem.due_at
    # Action items are followed through after publishing too: responders act on them.
    may_act = access.can_respond(user)
    items = list(postmortem.action_items.all())
    rows = []
    for item in items:
        row = bound.get(f"item-{item.pk}") if may_act else None
        if row is None and may_act:
            row = forms.ActionItemRowForm(
                initial={
                    "status": item.status,
                    "owner": getattr(item.owner, "username", ""),
                    "due_date": item.due_date,
                },
                usernames=names,
            )
            row.auto_id = f"item-{item.pk}-%s"
        rows.append((item, row))
    action_form = bound.get("action") or forms.ActionItemForm(usernames=names)
    action_form.auto_id = "action-%s"
    return extra | {
        "postmortem": postmortem,
        "incident": postmortem.incident,
        "steps": PostmortemStatus.choices,
        "today": now.date(),
        "sections": sections,
        "timeline": list(postmortem.timeline.all()),
        "action_items": items,
        "action_rows": rows,
        "open_actions": sum(item.is_open for item in items),
        "action_form": action_form,
        "may_act": may_act,
        "trackers": list(Tracker.objects.filter(enabled=True)) if may_act else [],
        "feedback_given": list(postmortem.feedback.all()),
        "reviews": reviews,
        "my_review": my_review,
        "waiting": waiting,
        "missing": missing,
        "may_write": may_write,
        "may_respond": access.can_respond(user),
        "lead": lead,
        "late": late,
        "published_late": bool(
            postmortem.published_at and postmortem.published_at > postmortem.due_at
        ),
        "primary": _primary(
            postmortem, lead=lead, my_review=my_review, missing=missing, waiting=waiting
        ),
        "error": error,
        "timeline_form": timeline_form,
        "meeting_form": meeting,
        "reviewers_form": reviewers,
        "sign_off_form": sign_off,
        "feedback_form": feedback,
        "repeats": incident_selectors.repeat_incidents(postmortem.incident),
    }


def page(request: HttpRequest, pk: int, *, status: int = 200, **options) -> HttpResponse:
    """The whole page (htmx: its ``#postmortem`` part, swapped whole)."""
    postmortem = selectors.postmortem_page(pk)
    context = page_context(request, postmortem, **options)
    template = "postmortems/_page.html" if request.htmx else "postmortems/detail.html"
    return render(request, template, context, status=status)


def part(request: HttpRequest, pk: int, template: str, *, status: int = 200, **options):
    """One part of the page (a section, the timeline) and, out of band, the
    review panel whose "missing" list the change may have shortened."""
    postmortem = selectors.postmortem_page(pk)
    context = page_context(request, postmortem, **options)
    context["part"] = template
    return render(request, "postmortems/_part.html", context, status=status)
