"""One-click acknowledge links in paging emails (as PagerDuty's emails have).

A link names one incident and one person, is signed with the site's secret
and expires after ``ACK_LINK_MAX_AGE_SECONDS``. Opening it shows the incident
and a button; only the POST (with its CSRF token) acknowledges, so mail
scanners that follow links change nothing. The acknowledgement is recorded
as that person's, and only if they may still respond.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from .models import Incident

SALT = "treebeard.ack-link"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def token_for(incident: Incident, user) -> str:
    return signing.dumps({"i": incident.pk, "u": user.pk}, salt=SALT)


def url_for(incident: Incident, user) -> str:
    path = reverse("incidents:ack-link", kwargs={"token": token_for(incident, user)})
    return settings.SITE_URL + path


def read(token: str) -> tuple[Incident, object]:
    """The incident and person a token names; LinkExpired / LinkInvalid."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.ACK_LINK_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    # Only this module signs tokens, but a link is input all the same: a
    # payload of another shape (an old format, another salt's key) is invalid.
    if not isinstance(data, dict):
        raise LinkInvalid
    incident_id, user_id = data.get("i"), data.get("u")
    if not all(type(v) is int and 0 < v < 2**63 for v in (incident_id, user_id)):
        raise LinkInvalid
    incident = Incident.objects.filter(pk=incident_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if incident is None or user is None:
        raise LinkInvalid
    return incident, user
