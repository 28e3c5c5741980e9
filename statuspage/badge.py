"""A flat status badge (``/badge.svg``), in the look of shields.io's, for
READMEs and intranet pages: a grey label and a coloured message.

The text is escaped (a component's name is written by people) and the
widths are estimated from Verdana's advance widths at 11 px, as shields.io
does, so no font is needed to lay it out.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .models import ComponentStatus

# Statuspage's colours, dark enough for white text (WCAG AA at 11 px bold-ish).
GREEN, YELLOW, ORANGE, RED, BLUE, GREY = (
    "#1a7f37",
    "#9a6700",
    "#bc4c00",
    "#cf222e",
    "#0969da",
    "#57606a",
)
INDICATOR = {
    "none": ("operational", GREEN),
    "minor": ("minor outage", YELLOW),
    "major": ("partial outage", ORANGE),
    "critical": ("major outage", RED),
    "maintenance": ("maintenance", BLUE),
}
COMPONENT = {
    ComponentStatus.OPERATIONAL: ("operational", GREEN),
    ComponentStatus.DEGRADED_PERFORMANCE: ("degraded performance", YELLOW),
    ComponentStatus.PARTIAL_OUTAGE: ("partial outage", ORANGE),
    ComponentStatus.MAJOR_OUTAGE: ("major outage", RED),
    ComponentStatus.UNDER_MAINTENANCE: ("under maintenance", BLUE),
}
# Verdana 11 px advance widths of the common characters; others count as WIDE.
NARROW = {c: 3.1 for c in "iIl.,:;'|!()[]j "}
NARROW.update({c: 4.3 for c in "frt-/"})
WIDE = 7.0
WIDEST = {c: 9.6 for c in "mwMW"}
DEFAULT = 6.6
MAX_LABEL = 60


def text_width(text: str) -> float:
    return sum(
        NARROW.get(c) or WIDEST.get(c) or (WIDE if c.isupper() or c.isdigit() else DEFAULT)
        for c in text
    )


def svg(label: str, message: str, color: str) -> bytes:
    """The badge, as UTF-8 bytes of a standalone SVG document."""
    label = label.strip()[:MAX_LABEL] or "status"
    left = round(text_width(label) + 12)
    right = round(text_width(message) + 12)
    total = left + right
    title = escape(f"{label}: {message}", {'"': "&quot;"})
    label_text, message_text = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" '
        f'role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        '<g clip-path="url(#r)">'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">{label_text}</text>'
        f'<text x="{left / 2:.1f}" y="14">{label_text}</text>'
        f'<text x="{left + right / 2:.1f}" y="15" fill="#010101" fill-opacity=".3">'
        f"{message_text}</text>"
        f'<text x="{left + right / 2:.1f}" y="14">{message_text}</text>'
        "</g></svg>"
    ).encode()


def overall_badge(label: str, indicator: str) -> bytes:
    message, color = INDICATOR.get(indicator, ("unknown", GREY))
    return svg(label, message, color)


def component_badge(name: str, status: str) -> bytes:
    message, color = COMPONENT.get(status, ("unknown", GREY))
    return svg(name, message, color)
