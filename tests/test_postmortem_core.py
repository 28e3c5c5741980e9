"""Post-mortems come from the resolution itself: created for P0/P1 in the
resolve's transaction, due 48 hours later, prefilled from the incident and
its timeline, reminded and breached by the engine, and published only when
the guide's template is filled and the reviewers signed off."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incidents import clock, services
from incidents.engine import sla
from incidents.errors import DomainError
from incidents.models import Deadline, DeadlineKind, EventKind, Notification, SlaBreach
from postmortems import services as pm
from postmortems.models import ActionItem, Postmortem, PostmortemStatus
from tests import factories
from tests.engine_support import T0

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

HOUR = timedelta(hours=1)


def resolve(incident, actor, **fields):
    fields.setdefault("root_cause", "A connection pool of 10 for 40 workers")
    fields.setdefault("resolution", "Pool raised to 50 and the deploy rolled back")
    return services.incident_resolve(incident=incident, actor=actor, **fields)


@pytest.fixture
def p0(bob):
    incident = factories.declare(actor=bob, severity="P0", title="Checkout down")
    services.incident_acknowledge(incident=incident, actor=bob)
    services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
    services.incident_post_update(
        incident=incident, actor=bob, message="Rolling back the deploy", status="identified"
    )
    return incident


def test_resolving_a_p0_creates_its_postmortem_due_48_hours_later_prefilled(p0, bob, later):
    later(minutes=40)
    resolve(p0, bob)

    postmortem = Postmortem.objects.get(incident=p0)
    assert postmortem.status == PostmortemStatus.DRAFT
    assert postmortem.owner == bob
    assert postmortem.due_at == clock.now() + 48 * HOUR
    assert postmortem.root_cause == "A connection pool of 10 for 40 workers"
    assert postmortem.resolution == "Pool raised to 50 and the deploy rolled back"
    assert postmortem.services_affected == ["api"]
    assert postmortem.impact == "Some customers cannot pay"
    texts = [entry.text for entry in postmortem.timeline.all()]
    assert texts[0].startswith("Declared")
    assert any("Rolling back the deploy" in text for text in texts)
    assert texts[-1].startswith("Resolved")
    assert all(entry.event_id for entry in postmortem.timeline.all())
    rows = Deadline.objects.filter(subject=f"postmortem:{postmortem.pk}")
    assert {(row.kind, row.due_at) for row in rows} == {
        ("pm_reminder", clock.now() + 24 * HOUR),
        (DeadlineKind.POSTMORTEM, clock.now() + 48 * HOUR),
    }


@pytest.mark.parametrize("severity", ["P2", "P3"])
def test_a_p2_or_p3_gets_none_unless_asked(bob, severity):
    incident = factories.declare(actor=bob, severity=severity)
    resolve(incident, bob)
    assert not Postmortem.objects.filter(incident=incident).exists()

    postmortem = pm.postmortem_request(actor=bob, incident=incident)

    assert postmortem.incident == incident
    with pytest.raises(DomainError) as again:
        pm.postmortem_request(actor=bob, incident=incident)
    assert again.value.conflict and again.value.field == "incident"


def test_a_drill_gets_none_unless_the_setting_says_so(bob, settings):
    drill = factories.declare(actor=bob, severity="P0", is_drill=True)
    resolve(drill, bob)
    assert not Postmortem.objects.filter(incident=drill).exists()

    settings.POSTMORTEM_FOR_DRILLS = True
    other = factories.declare(actor=bob, severity="P0", is_drill=True)
    resolve(other, bob)
    assert Postmortem.objects.filter(incident=other).exists()


def test_resolving_again_keeps_one_postmortem_and_its_promises(p0, bob):
    resolve(p0, bob)
    services.incident_reopen(incident=p0, actor=bob, reason="Errors are back")
    resolve(p0, bob)

    postmortem = Postmortem.objects.get(incident=p0)
    pending = Deadline.objects.pending().filter(subject=f"postmortem:{postmortem.pk}")
    assert sorted(pending.values_list("kind", flat=True)) == ["pm_reminder", "postmortem"]


def test_the_reminder_and_the_breach_fire_and_mail_the_owner(p0, bob, frozen):
    bob.email = "bob@treebeard.test"
    bob.save()
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)

    frozen.move_to(clock.now() + 24 * HOUR + timedelta(seconds=1), tick=False)
    sla.sweep()
    reminders = Notification.objects.filter(message_kind="pm_notice", target=bob.email)
    assert [r.context["subject"] for r in reminders] == [f"[{p0.ref}] Post-mortem due in 24 hours"]
    assert not SlaBreach.objects.filter(incident=p0, kind=DeadlineKind.POSTMORTEM).exists()

    frozen.move_to(postmortem.due_at + timedelta(seconds=1), tick=False)
    sla.sweep()
    breach = SlaBreach.objects.get(incident=p0, kind=DeadlineKind.POSTMORTEM)
    assert breach.due_at == postmortem.due_at
    assert p0.timeline.filter(kind=EventKind.SLA_BREACHED).exists()
    subjects = reminders.all().values_list("context__subject", flat=True)
    assert sorted(subjects) == [
        f"[{p0.ref}] Post-mortem due in 24 hours",
        f"[{p0.ref}] Post-mortem overdue",
    ]


def test_a_published_postmortem_is_never_reminded_nor_breached(p0, bob, frozen):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    fill(postmortem, bob)
    pm.postmortem_submit(actor=bob, postmortem=postmortem)
    pm.postmortem_publish(actor=bob, postmortem=postmortem)

    frozen.move_to(postmortem.due_at + HOUR, tick=False)
    sla.sweep()

    assert not SlaBreach.objects.filter(incident=p0, kind=DeadlineKind.POSTMORTEM).exists()
    assert not Notification.objects.filter(message_kind="pm_notice").exists()


def fill(postmortem, actor):
    pm.postmortem_update(
        actor=actor,
        postmortem=postmortem,
        summary="Checkout failed for 40 minutes.",
        users_affected="About 30 % of checkouts",
        what_went_well="Fast rollback",
        what_could_be_improved="Load tests before raising workers",
        lessons_learned="Pool size follows worker count",
    )
    now = clock.now()
    ActionItem.objects.create(
        postmortem=postmortem, title="Alert on pool saturation", owner=actor,
        due_date=now.date() + timedelta(days=7), created_at=now, updated_at=now,
    )  # fmt: skip


def test_publishing_refuses_naming_every_missing_section(p0, bob):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    pm.postmortem_update(actor=bob, postmortem=postmortem, summary="")
    pm.postmortem_submit(actor=bob, postmortem=postmortem)

    with pytest.raises(DomainError) as refused:
        pm.postmortem_publish(actor=bob, postmortem=postmortem)

    message = str(refused.value)
    for section in (
        "Summary", "Impact: users affected", "What Went Well", "What Could Be Improved",
        "Lessons Learned", "Action Items",
    ):  # fmt: skip
        assert section in message
    assert "Root Cause" not in message and "Timeline" not in message
    postmortem.refresh_from_db()
    assert postmortem.status == PostmortemStatus.IN_REVIEW


def test_reviewers_sign_off_against_the_checklist_before_publishing(p0, bob, alice, frozen):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    fill(postmortem, bob)
    pm.postmortem_set_people(actor=bob, postmortem=postmortem, reviewers=["alice"])
    pm.postmortem_submit(actor=bob, postmortem=postmortem)

    with pytest.raises(DomainError) as waiting:
        pm.postmortem_publish(actor=bob, postmortem=postmortem)
    assert "alice" in str(waiting.value)
    with pytest.raises(DomainError) as unticked:
        pm.postmortem_sign_off(
            actor=alice, postmortem=postmortem, checklist={"impact_complete": True}
        )
    assert unticked.value.field == "checklist"
    with pytest.raises(DomainError):
        pm.postmortem_sign_off(
            actor=bob, postmortem=postmortem, checklist=dict.fromkeys(pm.REVIEW_CHECKLIST, True)
        )

    pm.postmortem_sign_off(
        actor=alice, postmortem=postmortem, checklist=dict.fromkeys(pm.REVIEW_CHECKLIST, True)
    )
    published = pm.postmortem_publish(actor=bob, postmortem=postmortem)

    assert published.status == PostmortemStatus.PUBLISHED
    assert published.published_at == clock.now()
    row = Deadline.objects.get(subject=f"postmortem:{postmortem.pk}", kind="postmortem")
    assert row.met_at == clock.now()


def test_a_published_postmortem_is_reopened_before_it_is_edited(p0, bob):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    fill(postmortem, bob)
    pm.postmortem_submit(actor=bob, postmortem=postmortem)
    pm.postmortem_publish(actor=bob, postmortem=postmortem)

    with pytest.raises(DomainError) as refused:
        pm.postmortem_update(actor=bob, postmortem=postmortem, summary="More")
    assert refused.value.conflict

    pm.postmortem_reopen(actor=bob, postmortem=postmortem)
    pm.postmortem_update(actor=bob, postmortem=postmortem, summary="More")
    postmortem.refresh_from_db()
    assert (postmortem.status, postmortem.summary) == ("draft", "More")


def test_data_loss_needs_its_details(p0, bob):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)

    with pytest.raises(DomainError) as refused:
        pm.postmortem_update(actor=bob, postmortem=postmortem, data_loss=True)

    assert refused.value.field == "data_loss_details"
    pm.postmortem_update(
        actor=bob, postmortem=postmortem, data_loss=True, data_loss_details="12 carts"
    )


def test_marked_moments_are_highlighted_in_the_imported_timeline(p0, bob):
    update = p0.timeline.get(kind=EventKind.UPDATE_POSTED)
    services.timeline_mark(actor=bob, event=update, kind="diagnosis")
    resolve(p0, bob)

    entry = Postmortem.objects.get(incident=p0).timeline.get(event=update)
    assert entry.moment == "diagnosis"


def test_reimporting_keeps_hand_written_entries(p0, bob):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    pm.timeline_entry_add(
        actor=bob, postmortem=postmortem, at=T0, text="Customer support saw tickets"
    )
    before = postmortem.timeline.count()

    pm.postmortem_import_timeline(actor=bob, postmortem=postmortem)

    assert postmortem.timeline.count() == before
    assert postmortem.timeline.filter(event__isnull=True, text__startswith="Customer").exists()


def test_viewers_cannot_write_and_only_the_owner_or_a_manager_publishes(p0, bob, vera, alice):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        pm.postmortem_update(actor=vera, postmortem=postmortem, summary="x")
    other = factories.responder("rita")
    with pytest.raises(PermissionDenied):
        pm.postmortem_submit(actor=other, postmortem=postmortem)
    pm.postmortem_submit(actor=alice, postmortem=postmortem)


def test_setting_the_meeting_mails_each_participant_an_invitation(p0, bob, alice):
    bob.email, alice.email = "bob@treebeard.test", "alice@treebeard.test"
    bob.save(), alice.save()
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    pm.postmortem_set_people(actor=bob, postmortem=postmortem, participants=["alice"])
    meeting = clock.now() + 20 * HOUR

    pm.postmortem_update(actor=bob, postmortem=postmortem, meeting_at=meeting)
    pm.postmortem_update(actor=bob, postmortem=postmortem, meeting_at=meeting)

    rows = [
        r for r in Notification.objects.filter(message_kind="pm_notice") if r.context["calendar"]
    ]
    assert sorted(row.target for row in rows) == [alice.email, bob.email]
    calendar = rows[0].context["calendar"]
    assert "METHOD:REQUEST" in calendar
    assert f"DTSTART:{meeting:%Y%m%dT%H%M%S}Z" in calendar
    assert "ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:alice@treebeard.test" in calendar


def test_the_invitation_arrives_by_mail_with_its_calendar(p0, bob, smtp_sink):
    from incidents.notify import outbox

    bob.email = "bob@treebeard.test"
    bob.save()
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    pm.postmortem_update(actor=bob, postmortem=postmortem, meeting_at=clock.now() + 5 * HOUR)
    row = Notification.objects.get(message_kind="pm_notice")

    assert outbox.deliver(row.pk) == "delivered"

    (message,) = smtp_sink.messages
    assert "text/calendar" in message.as_string()
    assert "BEGIN:VCALENDAR" in message.as_string()


def test_feedback_signed_replaces_and_anonymous_adds(p0, bob):
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)

    pm.feedback_give(actor=bob, postmortem=postmortem, rating=3, went_well="Roles")
    pm.feedback_give(actor=bob, postmortem=postmortem, rating=4, went_well="Roles, fast")
    pm.feedback_give(actor=bob, postmortem=postmortem, rating=2, anonymous=True)
    with pytest.raises(DomainError) as refused:
        pm.feedback_give(actor=bob, postmortem=postmortem, rating=9)

    assert refused.value.field == "rating"
    assert sorted((f.rating, f.author_id) for f in postmortem.feedback.all()) == [
        (2, None),
        (4, bob.pk),
    ]


def test_publishing_a_public_summary_moves_the_public_incident_to_postmortem(p0, bob, alice):
    from statuspage import services as status
    from statuspage.models import PublicIncident

    status.incident_publish(
        actor=alice, incident=p0, title="Checkout errors", impact="major", message="Looking."
    )
    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    fill(postmortem, bob)
    pm.postmortem_update(
        actor=bob, postmortem=postmortem, public_summary="A pool was too small; we fixed it."
    )
    pm.postmortem_submit(actor=bob, postmortem=postmortem)

    pm.postmortem_publish(actor=bob, postmortem=postmortem)

    public = PublicIncident.objects.get(incident=p0)
    assert public.status == "postmortem"
    latest = public.updates.order_by("-display_at", "-id").first()
    assert (latest.status, latest.body) == ("postmortem", "A pool was too small; we fixed it.")


def test_an_unpublished_incident_stays_off_the_status_page_when_its_postmortem_is(p0, bob):
    from statuspage.models import PublicIncident

    resolve(p0, bob)
    postmortem = Postmortem.objects.get(incident=p0)
    fill(postmortem, bob)
    pm.postmortem_update(actor=bob, postmortem=postmortem, public_summary="Summary.")
    pm.postmortem_submit(actor=bob, postmortem=postmortem)
    pm.postmortem_publish(actor=bob, postmortem=postmortem)

    assert not PublicIncident.objects.exists()
