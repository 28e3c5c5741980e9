"""A post-mortem as Markdown in the guide's layout, section for section
(GUIDE.md "Post-Mortem Document"), for download and for the API's
``markdown/`` export.

The guide's template, as exported::

    # Post-Mortem: <incident title>

    **Date**: <YYYY-MM-DD>
    **Duration**: <duration>
    **Severity**: <P0..P3>
    **Incident Commander**: <name>

    ## Summary / ## Timeline / ## Root Cause / ## Impact / ## What Went Well /
    ## What Could Be Improved / ## Action Items / ## Lessons Learned

Contributing factors stay inside Root Cause (the guide has no section for
them); action items read ``- [ ] <title> - Owner: <name> - Due: <date>``,
``[x]`` when done.
"""

from __future__ import annotations

from incidents.durations import duration
from incidents.people import display_name

from .models import ActionStatus, Postmortem

EMPTY = "_Not written yet._"
# Lines that are Markdown of their own (a list item, a heading, a quote, a table, code).
MARKDOWN_BLOCKS = ("- ", "* ", "+ ", "#", ">", "|", "```")


def _text(value: str) -> str:
    value = (value or "").strip()
    return value or EMPTY


def _bullets(value: str) -> str:
    """Prose lines as a list (the guide's "- [Item 1]"); lines that are
    already list items, or Markdown blocks, stay as they are."""
    lines = [line.rstrip() for line in (value or "").strip().splitlines()]
    if not any(lines):
        return EMPTY
    out = []
    for line in lines:
        stripped = line.lstrip()
        numbered = stripped[:1].isdigit() and ". " in stripped[:5]
        if not stripped or numbered or stripped.startswith(MARKDOWN_BLOCKS):
            out.append(line)
        else:
            out.append(f"- {stripped}")
    return "\n".join(out)


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


def _timeline(postmortem: Postmortem) -> str:
    entries = list(postmortem.timeline.all())
    if not entries:
        return EMPTY
    lines = []
    for entry in entries:
        marked = f" **[{entry.moment}]**" if entry.moment else ""
        lines.append(f"- {entry.at:%Y-%m-%d %H:%M} UTC:{marked} {_one_line(entry.text)}")
    return "\n".join(lines)


def _root_cause(postmortem: Postmortem) -> str:
    text = _text(postmortem.root_cause)
    factors = postmortem.contributing_factors or []
    if factors:
        listed = "\n".join(f"- {_one_line(factor)}" for factor in factors)
        text += f"\n\n**Contributing factors**:\n{listed}"
    return text


def _impact(postmortem: Postmortem) -> str:
    services = ", ".join(postmortem.services_affected or []) or "None"
    loss = "Yes" if postmortem.data_loss else "No"
    if postmortem.data_loss and postmortem.data_loss_details:
        loss += f" - {_one_line(postmortem.data_loss_details)}"
    lines = [
        f"- Users affected: {_one_line(postmortem.users_affected) or 'Unknown'}",
        f"- Services affected: {services}",
        f"- Data loss: {loss}",
    ]
    if postmortem.impact.strip():
        lines += ["", postmortem.impact.strip()]
    return "\n".join(lines)


def _action_items(postmortem: Postmortem) -> str:
    items = list(postmortem.action_items.select_related("owner"))
    if not items:
        return EMPTY
    lines = []
    for item in items:
        box = "[x]" if item.status == ActionStatus.DONE else "[ ]"
        owner = display_name(item.owner) if item.owner else "Unassigned"
        due = item.due_date.isoformat() if item.due_date else "None"
        lines.append(f"- {box} {_one_line(item.title)} - Owner: {owner} - Due: {due}")
    return "\n".join(lines)


def markdown(postmortem: Postmortem) -> str:
    """The post-mortem in the guide's template (see the module docstring)."""
    incident = postmortem.incident
    commander = incident.commander or postmortem.owner
    seconds = (
        (incident.resolved_at - incident.detected_at).total_seconds()
        if incident.resolved_at
        else None
    )
    sections = [
        ("Summary", _text(postmortem.summary)),
        ("Timeline", _timeline(postmortem)),
        ("Root Cause", _root_cause(postmortem)),
        ("Impact", _impact(postmortem)),
        ("What Went Well", _bullets(postmortem.what_went_well)),
        ("What Could Be Improved", _bullets(postmortem.what_could_be_improved)),
        ("Action Items", _action_items(postmortem)),
        ("Lessons Learned", _text(postmortem.lessons_learned)),
    ]
    head = [
        f"# Post-Mortem: {_one_line(incident.title)}",
        "",
        f"**Date**: {incident.detected_at:%Y-%m-%d}",
        f"**Duration**: {duration(seconds)}",
        f"**Severity**: {incident.severity}",
        f"**Incident Commander**: {display_name(commander) if commander else 'None'}",
    ]
    body = [f"\n## {title}\n{content}" for title, content in sections]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"


def filename(postmortem: Postmortem) -> str:
    return f"postmortem-{postmortem.incident.ref}.md"
