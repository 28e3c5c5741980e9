"""A post-mortem's workflow: draft → in_review (submit) → published, and
reopen. Publishing is refused, naming what is missing, until every section
of the guide's template is filled, there is an action item, and every
named reviewer has signed off against the review checklist (Google SRE:
reviewed against criteria before it is published)."""

from __future__ import annotations

from django.db import transaction

from incidents import clock, publication
from incidents.engine import deadlines
from incidents.errors import DomainError
from incidents.models import DeadlineKind

from .. import access
from ..models import Postmortem, PostmortemStatus, Review
from .creation import import_timeline, subject
from .document import lock, require_editable

# The reviewer's checklist: every item must be ticked to sign off.
REVIEW_CHECKLIST = {
    "impact_complete": "The impact is complete: users, services, data loss.",
    "root_cause_deep": "The root cause and contributing factors go deep enough.",
    "actions_owned": "Every action item has an owner and a due date.",
    "timeline_complete": "The timeline is complete.",
}

# The guide's sections and what "filled" means for each.
REQUIRED_SECTIONS = (
    ("summary", "Summary"),
    ("root_cause", "Root Cause"),
    ("users_affected", "Impact: users affected"),
    ("services_affected", "Impact: services affected"),
    ("what_went_well", "What Went Well"),
    ("what_could_be_improved", "What Could Be Improved"),
    ("lessons_learned", "Lessons Learned"),
)


def missing_for_publishing(postmortem: Postmortem) -> list[str]:
    """What stops publishing, in the template's order (empty: nothing)."""
    missing = [label for field, label in REQUIRED_SECTIONS if not getattr(postmortem, field)]
    if not postmortem.timeline.exists():
        missing.insert(1, "Timeline")
    if postmortem.data_loss and not postmortem.data_loss_details:
        missing.append("Impact: data loss details")
    if not postmortem.action_items.exists():
        missing.append("Action Items (at least one)")
    return missing


@transaction.atomic
def postmortem_import_timeline(*, actor, postmortem: Postmortem) -> int:
    """Import (again) the incident's timeline; hand-written entries stay."""
    access.require_write(actor)
    postmortem = lock(postmortem)
    require_editable(postmortem)
    return import_timeline(postmortem, clock.now())


@transaction.atomic
def postmortem_submit(*, actor, postmortem: Postmortem) -> Postmortem:
    postmortem = lock(postmortem)
    access.require_lead(actor, postmortem, "submit it for review")
    if postmortem.status != PostmortemStatus.DRAFT:
        raise DomainError(
            f"Only a draft can be submitted (it is {postmortem.get_status_display().lower()}).",
            field="status",
            conflict=True,
        )
    now = clock.now()
    postmortem.status = PostmortemStatus.IN_REVIEW
    postmortem.submitted_at = now
    postmortem.updated_at = now
    postmortem.save(update_fields=["status", "submitted_at", "updated_at"])
    return postmortem


@transaction.atomic
def postmortem_sign_off(
    *, actor, postmortem: Postmortem, checklist: dict, comment: str = ""
) -> Review:
    """A named reviewer signs off, with every checklist item ticked."""
    postmortem = lock(postmortem)
    review = (
        Review.objects.select_for_update().filter(postmortem=postmortem, reviewer=actor).first()
    )
    if review is None:
        raise DomainError("You are not a reviewer of this post-mortem.", field="reviewer")
    if postmortem.status != PostmortemStatus.IN_REVIEW:
        raise DomainError(
            "Sign-offs are for a post-mortem in review; submit it first.",
            field="status",
            conflict=True,
        )
    if not isinstance(checklist, dict):
        raise DomainError("checklist must be an object of true/false.", field="checklist")
    unticked = [text for key, text in REVIEW_CHECKLIST.items() if checklist.get(key) is not True]
    if unticked:
        raise DomainError(f"Not signed off: {unticked[0]}", field="checklist")
    review.checklist = {key: True for key in REVIEW_CHECKLIST}
    review.comment = (comment or "").strip()[:5000]
    review.signed_off_at = clock.now()
    review.save(update_fields=["checklist", "comment", "signed_off_at"])
    return review


@transaction.atomic
def postmortem_publish(*, actor, postmortem: Postmortem) -> Postmortem:
    """Publish: the 48-hour promise is met; a public summary goes to the
    status page when the incident is public (``incidents.publication``)."""
    postmortem = lock(postmortem)
    access.require_lead(actor, postmortem, "publish it")
    if postmortem.status != PostmortemStatus.IN_REVIEW:
        raise DomainError(
            "Submit the post-mortem for review before publishing it.",
            field="status",
            conflict=True,
        )
    missing = missing_for_publishing(postmortem)
    if missing:
        raise DomainError(
            "Not ready to publish; missing: " + ", ".join(missing) + ".", field="sections"
        )
    waiting = [
        str(review.reviewer)
        for review in postmortem.reviews.select_related("reviewer")
        if review.signed_off_at is None
    ]
    if waiting:
        raise DomainError(
            "Waiting for the sign-off of: " + ", ".join(waiting) + ".",
            field="reviewers",
            conflict=True,
        )
    now = clock.now()
    postmortem.status = PostmortemStatus.PUBLISHED
    postmortem.published_at = now
    postmortem.updated_at = now
    postmortem.save(update_fields=["status", "published_at", "updated_at"])
    deadlines.meet_for(subject(postmortem), now, kinds=(DeadlineKind.POSTMORTEM,))
    deadlines.cancel_for(subject(postmortem), now)
    if postmortem.public_summary:
        publication.postmortem_published(
            incident=postmortem.incident, summary=postmortem.public_summary
        )
    return postmortem


@transaction.atomic
def postmortem_reopen(*, actor, postmortem: Postmortem) -> Postmortem:
    """Back to draft (from review or published); sign-offs are cleared. A
    reopened post-mortem past its due time is late, not due again."""
    postmortem = lock(postmortem)
    access.require_lead(actor, postmortem, "reopen it")
    if postmortem.status == PostmortemStatus.DRAFT:
        raise DomainError("The post-mortem is a draft already.", field="status", conflict=True)
    # The 48-hour promise stays as it is: pending while in review, met once
    # published (a reopened post-mortem is being improved, not late).
    postmortem.status = PostmortemStatus.DRAFT
    postmortem.updated_at = clock.now()
    postmortem.save(update_fields=["status", "updated_at"])
    postmortem.reviews.update(signed_off_at=None, checklist={})
    return postmortem
