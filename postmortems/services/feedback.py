"""Participants' feedback on the response (Dispatch users ask for it): a
rating and two short answers, signed or anonymous, shown in the post-mortem."""

from __future__ import annotations

from django.db import transaction

from incidents import clock
from incidents.errors import DomainError
from incidents.services.checks import check_text, check_whole_number

from .. import access
from ..models import Feedback, Postmortem


@transaction.atomic
def feedback_give(
    *,
    actor,
    postmortem: Postmortem,
    rating: int,
    went_well: str = "",
    could_improve: str = "",
    anonymous: bool = False,
) -> Feedback:
    """Anyone who may respond gives feedback; a signed one replaces that
    person's earlier word, an anonymous one is kept without a name."""
    access.require_write(actor)
    rating = check_whole_number(rating, "rating", low=1, high=5)
    went_well = check_text(
        went_well, "went_well", required=False, max_length=5000, error=DomainError
    )
    could_improve = check_text(
        could_improve, "could_improve", required=False, max_length=5000, error=DomainError
    )
    values = {"rating": rating, "went_well": went_well, "could_improve": could_improve}
    if anonymous:
        return Feedback.objects.create(postmortem=postmortem, created_at=clock.now(), **values)
    feedback, _ = Feedback.objects.update_or_create(
        postmortem=postmortem, author=actor, defaults={**values, "created_at": clock.now()}
    )
    return feedback
