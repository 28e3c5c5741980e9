"""Action items: their rules (one place, the services), and what time does
to them: a reminder to the owner before the due date, and an overdue breach
the metrics count with a notice to the owner and the post-mortem's owner,
both deadline rows fired by the sweep."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from incidents.engine import sla
from incidents.errors import DomainError
from incidents.models import Deadline, DeadlineKind, Notification, SlaBreach
from postmortems import services as pm
from postmortems.models import ActionItem, PostmortemStatus
from tests import factories
from tests.pm_actions_values import TODAY

# The fixtures (postmortem, item, trackers) of tests/pm_actions_support.py.
pytest_plugins = ["tests.pm_actions_support"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

DAY = timedelta(days=1)


def rows(item) -> set[tuple[str, datetime]]:
    """The item's standing promises: (kind, due_at)."""
    return {
        (row.kind, row.due_at)
        for row in Deadline.objects.filter(subject=f"action_item:{item.pk}").pending()
    }


def notices(person, kind: str) -> list[Notification]:
    return list(
        Notification.objects.filter(
            message_kind="pm_notice", recipient=person, idempotency_key__contains=kind
        )
    )


def test_an_item_gets_its_reminder_and_its_overdue_promise(item, postmortem):
    end_of_due_date = datetime(2026, 11, 28, tzinfo=UTC)
    assert item.status == "open" and item.kind == "fix" and item.priority == "high"
    assert item.owner.username == "bob"
    assert rows(item) == {
        ("ai_reminder", end_of_due_date - 2 * DAY),
        (DeadlineKind.ACTION_ITEM, end_of_due_date),
    }
    row = Deadline.objects.get(subject=f"action_item:{item.pk}", kind=DeadlineKind.ACTION_ITEM)
    assert row.incident == postmortem.incident


def test_the_reminder_days_come_from_the_settings(postmortem, bob, settings):
    settings.ACTION_ITEM_REMINDER_DAYS = 1
    item = pm.action_item_add(
        actor=bob, postmortem=postmortem, title="Alert on pool", owner=bob, due_date=TODAY + DAY
    )
    assert ("ai_reminder", datetime(2026, 11, 26, tzinfo=UTC)) in rows(item)


BAD = [
    ({"title": ""}, "title"),
    ({"title": "x" * 301}, "title"),
    ({"owner": "nobody"}, "owner"),
    ({"owner": ""}, "owner"),
    ({"due_date": TODAY - DAY}, "due_date"),
    ({"due_date": "2026-12-01"}, "due_date"),
    ({"due_date": None}, "due_date"),
    ({"priority": "urgent"}, "priority"),
    ({"status": "closed"}, "status"),
    ({"kind": "bugfix"}, "kind"),
    ({"ticket_url": "javascript:alert(1)"}, "ticket_url"),
    ({"ticket_url": "ftp://tracker.example/1"}, "ticket_url"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_a_broken_rule_is_refused_naming_its_field_and_nothing_is_written(
    postmortem, bob, change, field
):
    fields = {"title": "Add a pool alert", "owner": "bob", "due_date": TODAY, **change}
    with pytest.raises(DomainError) as refused:
        pm.action_item_add(actor=bob, postmortem=postmortem, **fields)
    assert refused.value.field == field
    assert not ActionItem.objects.exists()
    assert not Deadline.objects.filter(subject__startswith="action_item:").exists()


def test_an_inactive_owner_is_refused(postmortem, bob):
    gone = factories.responder("gone")
    gone.is_active = False
    gone.save()
    with pytest.raises(DomainError) as refused:
        pm.action_item_add(actor=bob, postmortem=postmortem, title="x", owner=gone, due_date=TODAY)
    assert refused.value.field == "owner"


def test_viewers_and_people_without_a_group_write_nothing(postmortem, vera, charlie):
    for person in (vera, charlie):
        with pytest.raises(PermissionDenied):
            pm.action_item_add(
                actor=person, postmortem=postmortem, title="x", owner="bob", due_date=TODAY
            )
    assert not ActionItem.objects.exists()


def test_an_update_may_set_a_past_due_date_and_it_reschedules(item, bob, later):
    later(days=10)
    pm.action_item_update(actor=bob, item=item, due_date=TODAY + 3 * DAY)
    item.refresh_from_db()
    assert item.due_date == TODAY + 3 * DAY
    # The reminder would be in the past: only the overdue promise, due already.
    assert rows(item) == {(DeadlineKind.ACTION_ITEM, datetime(2026, 11, 29, tzinfo=UTC))}
    with pytest.raises(DomainError) as refused:
        pm.action_item_update(actor=bob, item=item, title=" ")
    assert refused.value.field == "title"


def test_done_stamps_done_at_and_meets_the_promises_reopening_brings_them_back(item, bob):
    pm.action_item_update(actor=bob, item=item, status="done")
    item.refresh_from_db()
    assert item.done_at is not None
    assert rows(item) == set()
    sla.sweep(now=datetime(2026, 12, 1, tzinfo=UTC))  # the post-mortem's own fire
    assert not SlaBreach.objects.filter(kind=DeadlineKind.ACTION_ITEM).exists()

    pm.action_item_update(actor=bob, item=item, status="in_progress")
    item.refresh_from_db()
    assert item.done_at is None
    assert {kind for kind, _ in rows(item)} == {"ai_reminder", DeadlineKind.ACTION_ITEM}


def test_wont_do_meets_the_promises_too(item, bob):
    pm.action_item_update(actor=bob, item=item, status="wont_do")
    assert rows(item) == set()


def test_items_of_a_published_postmortem_stay_editable(item, postmortem, bob):
    postmortem.status = PostmortemStatus.PUBLISHED
    postmortem.save(update_fields=["status"])
    pm.action_item_update(actor=bob, item=item, status="in_progress", owner="alice")
    added = pm.action_item_add(
        actor=bob,
        postmortem=postmortem,
        title="Runbook: pool",
        owner="bob",
        due_date=TODAY,
        kind="runbook",
    )
    item.refresh_from_db()
    assert (item.status, item.owner.username, added.kind) == ("in_progress", "alice", "runbook")


def test_deleting_an_item_cancels_its_promises(item, bob):
    subject = f"action_item:{item.pk}"
    pm.action_item_delete(actor=bob, item=item)
    assert not ActionItem.objects.exists()
    assert not Deadline.objects.filter(subject=subject).pending().exists()


# --- the sweep ---------------------------------------------------------------------


def test_the_reminder_goes_to_the_owner_before_the_due_date(item, bob, alice, frozen):
    frozen.move_to(datetime(2026, 11, 26, 0, 0, 1, tzinfo=UTC), tick=False)
    sla.sweep()
    [reminder] = notices(bob, "ai_reminder")
    assert reminder.target == bob.email
    assert "2026-11-27" in reminder.context["subject"]
    assert item.title in reminder.context["text"]
    assert notices(alice, "ai_reminder") == []
    assert not SlaBreach.objects.exists()


def test_overdue_records_a_breach_and_tells_the_owner_and_the_postmortems_owner(
    item, bob, alice, frozen
):
    frozen.move_to(datetime(2026, 11, 27, 23, 59, tzinfo=UTC), tick=False)
    sla.sweep()
    assert not SlaBreach.objects.filter(kind=DeadlineKind.ACTION_ITEM).exists()

    frozen.move_to(datetime(2026, 11, 28, 0, 0, 1, tzinfo=UTC), tick=False)
    sla.sweep()
    breach = SlaBreach.objects.get(kind=DeadlineKind.ACTION_ITEM)
    assert breach.incident == item.postmortem.incident
    assert breach.due_at == datetime(2026, 11, 28, tzinfo=UTC)
    for person in (bob, alice):
        [notice] = notices(person, "ai_overdue")
        assert "overdue" in notice.context["subject"].lower()
        assert "2026-11-27" in notice.context["text"]
    # Fired once: the next sweeps send nothing more.
    frozen.move_to(datetime(2026, 11, 29, tzinfo=UTC), tick=False)
    sla.sweep()
    assert len(notices(bob, "ai_overdue")) == 1


def test_an_item_done_in_time_is_never_reported(item, bob, frozen):
    pm.action_item_update(actor=bob, item=item, status="done")
    frozen.move_to(datetime(2026, 12, 5, tzinfo=UTC), tick=False)
    sla.sweep()
    assert not SlaBreach.objects.filter(kind=DeadlineKind.ACTION_ITEM).exists()
    assert notices(bob, "ai_") == []


def test_moving_the_due_date_moves_the_overdue_notice(item, bob, frozen):
    pm.action_item_update(actor=bob, item=item, due_date=date(2026, 12, 4))
    frozen.move_to(datetime(2026, 11, 28, 0, 0, 1, tzinfo=UTC), tick=False)
    sla.sweep()
    assert not SlaBreach.objects.filter(kind=DeadlineKind.ACTION_ITEM).exists()
    frozen.move_to(datetime(2026, 12, 5, 0, 0, 1, tzinfo=UTC), tick=False)
    sla.sweep()
    assert SlaBreach.objects.filter(kind=DeadlineKind.ACTION_ITEM).count() == 1
