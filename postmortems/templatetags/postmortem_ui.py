"""Template helpers of the post-mortem pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def item(mapping: dict, key: str):
    """``sections|item:key``: a dict's value by a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def section_text(postmortem, key: str) -> str:
    """A text section of the post-mortem by its field name."""
    return getattr(postmortem, key, "") or ""
