"""iCalendar text (RFC 5545) written by hand: escaping, folding, UTC times.
Pure functions, shared by every calendar the product writes (on-call
shifts, maintenance windows, post-mortem meeting invitations)."""

from __future__ import annotations

from datetime import UTC, datetime

# RFC 5545 3.1: lines are folded at 75 octets (not characters).
LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a
    UTF-8 character; continuation lines start with one space (which counts)."""
    chunks: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > LINE_OCTETS:
            chunks.append(current)
            current, size = " ", 1
        current += char
        size += width
    chunks.append(current)
    return "\r\n".join(chunks)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def lines_to_text(lines: list[str]) -> str:
    """Content lines as a calendar's text: each folded, CRLF-terminated."""
    return "".join(fold(line) + "\r\n" for line in lines)
