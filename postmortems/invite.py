"""The post-mortem meeting as an iCalendar invitation (RFC 5545/5546,
METHOD:REQUEST) mailed to its participants: calendar apps offer to accept
it, and a moved meeting updates the same event (same UID, higher SEQUENCE)."""

from __future__ import annotations

from datetime import datetime, timedelta

from incidents.ical_text import escape_text, lines_to_text, utc_stamp

MEETING_LENGTH = timedelta(hours=1)
PRODID = "-//TreeBeard//TreeBeard IR post-mortems//EN"


def invitation(postmortem, *, url: str, now: datetime) -> str:
    incident = postmortem.incident
    start = postmortem.meeting_at
    owner = postmortem.owner
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "METHOD:REQUEST",
        "CALSCALE:GREGORIAN",
        "BEGIN:VEVENT",
        f"UID:postmortem-{postmortem.pk}@treebeard-ir",
        # Later invitations of the same meeting replace the earlier ones.
        f"SEQUENCE:{int(now.timestamp())}",
        f"DTSTAMP:{utc_stamp(now)}",
        f"DTSTART:{utc_stamp(start)}",
        f"DTEND:{utc_stamp(start + MEETING_LENGTH)}",
        f"SUMMARY:{escape_text(f'Post-mortem: {incident.title} ({incident.ref})')}",
        f"DESCRIPTION:{escape_text(f'Blameless post-mortem meeting of {incident.ref}. {url}')}",
        f"URL:{url}",
    ]
    if owner is not None and owner.email:
        lines.append(f"ORGANIZER:mailto:{owner.email}")
    for person in postmortem.participants.all():
        if person.email:
            lines.append(f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{person.email}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return lines_to_text(lines)
