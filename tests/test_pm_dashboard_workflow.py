"""The post-mortem page's side and timeline: submit, sign off, publish and
reopen (owner or manager; a named reviewer signs off), publishing refused
naming what is missing, reviewers, the meeting and its invitations,
feedback, the timeline's import, hand-written entries and deletes, and
the Markdown and print downloads."""

from __future__ import annotations

import pytest

from incidents.models import Notification
from postmortems import services
from postmortems.models import Feedback, PostmortemStatus, Review, TimelineEntry
from tests import factories
from tests.pm_dash_support import HTMX, fill, resolved_postmortem, url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def pm(bob):
    return resolved_postmortem(bob)


def test_publishing_an_unfilled_postmortem_names_what_is_missing(pm, bob, client_for):
    client = client_for(bob)
    assert client.post(url("submit", pm.pk), **HTMX).status_code == 200
    response = client.post(url("publish", pm.pk), **HTMX)

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="workflow-error"' in html
    assert "Not ready to publish; missing: Impact: users affected" in html
    assert "Action Items (at least one)" in html
    pm.refresh_from_db()
    assert pm.status == PostmortemStatus.IN_REVIEW


def test_owner_submits_reviewer_signs_off_owner_publishes(pm, bob, alice, client_for):
    fill(pm, bob)
    reviewer = factories.responder("rita")
    owner = client_for(bob)
    response = owner.post(url("reviewers", pm.pk), {"reviewers": ["rita"]})
    assert response.status_code == 302
    assert owner.post(url("submit", pm.pk)).status_code == 302

    refused = owner.post(url("publish", pm.pk), **HTMX)
    assert refused.status_code == 409
    assert "Waiting for the sign-off of" in refused.content.decode()

    rita = client_for(reviewer)
    page = rita.get(url("detail", pm.pk)).content.decode()
    assert "Your sign-off" in page and "Review and sign off" in page
    half = rita.post(url("sign-off", pm.pk), {"impact_complete": "on"}, **HTMX)
    assert half.status_code == 400
    assert "Not signed off: The root cause" in half.content.decode()
    assert Review.objects.get(reviewer=reviewer).signed_off_at is None
    ticked = {key: "on" for key in services.REVIEW_CHECKLIST}
    assert rita.post(url("sign-off", pm.pk), {**ticked, "comment": "Good"}).status_code == 302

    owner = client_for(bob)
    done = owner.post(url("publish", pm.pk), **HTMX)
    assert done.status_code == 200
    assert "Published. The 48-hour promise is met." in done.content.decode()
    pm.refresh_from_db()
    assert pm.status == PostmortemStatus.PUBLISHED

    assert owner.post(url("reopen", pm.pk)).status_code == 302
    pm.refresh_from_db()
    assert pm.status == PostmortemStatus.DRAFT


def test_a_responder_who_is_not_the_owner_cannot_submit_or_name_reviewers(pm, client_for):
    other = factories.responder("rob")
    client = client_for(other)
    html = client.get(url("detail", pm.pk)).content.decode()
    assert "Submit for review" not in html and "Edit</a>" in html  # writes, does not lead
    assert client.post(url("submit", pm.pk)).status_code == 403
    assert client.post(url("reviewers", pm.pk), {"reviewers": ["rob"]}).status_code == 403
    pm.refresh_from_db()
    assert pm.status == PostmortemStatus.DRAFT and not pm.reviews.exists()


def test_a_manager_may_submit_and_publish(pm, bob, alice, client_for):
    fill(pm, bob)
    client = client_for(alice)
    assert client.post(url("submit", pm.pk)).status_code == 302
    assert client.post(url("publish", pm.pk)).status_code == 302
    pm.refresh_from_db()
    assert pm.status == PostmortemStatus.PUBLISHED


def test_a_viewer_cannot_sign_off_or_give_feedback(pm, vera, client_for):
    client = client_for(vera)
    html = client.get(url("detail", pm.pk)).content.decode()
    assert "Send feedback" not in html
    assert client.post(url("feedback", pm.pk), {"rating": "4"}).status_code == 403
    assert not Feedback.objects.exists()
    refused = client.post(url("sign-off", pm.pk), {"impact_complete": "on"})
    assert refused.status_code == 400
    assert "You are not a reviewer" in refused.content.decode()


def test_the_owner_cannot_review_their_own(pm, bob, client_for):
    response = client_for(bob).post(url("reviewers", pm.pk), {"reviewers": ["bob"]}, **HTMX)
    # bob is not even offered: the form refuses the choice itself.
    assert response.status_code == 400
    assert not Review.objects.exists()


def test_the_meeting_and_its_participants_get_an_invitation(pm, bob, client_for):
    factories.responder("rita")
    response = client_for(bob).post(
        url("meeting", pm.pk),
        {"meeting_at": "2026-11-26T15:00", "participants": ["rita"]},
        **HTMX,
    )
    assert response.status_code == 200
    pm.refresh_from_db()
    assert pm.meeting_at.isoformat() == "2026-11-26T15:00:00+00:00"
    assert [p.username for p in pm.participants.all()] == ["rita"]
    html = response.content.decode()
    assert "Thu 26 Nov 15:00" in html
    assert Notification.objects.filter(message_kind="pm_notice").count() >= 2


def test_a_bad_meeting_time_is_refused_beside_the_field(pm, bob, client_for):
    response = client_for(bob).post(url("meeting", pm.pk), {"meeting_at": "soon"}, **HTMX)
    assert response.status_code == 400
    assert 'id="meeting-meeting_at_error"' in response.content.decode()
    pm.refresh_from_db()
    assert pm.meeting_at is None


def test_feedback_is_given_and_shown_signed_or_anonymous(pm, bob, client_for):
    client = client_for(bob)
    client.post(url("feedback", pm.pk), {"rating": "4", "went_well": "Calm IC"})
    response = client.post(
        url("feedback", pm.pk),
        {"rating": "2", "could_improve": "Paging was slow", "anonymous": "on"},
        **HTMX,
    )
    html = response.content.decode()
    assert "Calm IC" in html and "Paging was slow" in html and "Anonymous" in html
    assert Feedback.objects.filter(author=None).count() == 1
    refused = client.post(url("feedback", pm.pk), {"rating": "9"}, **HTMX)
    assert refused.status_code == 400 and 'id="feedback-rating' in refused.content.decode()
    assert Feedback.objects.count() == 2


def test_timeline_add_delete_and_import_again(pm, bob, client_for):
    client = client_for(bob)
    imported = pm.timeline.count()
    response = client.post(
        url("timeline-add", pm.pk), {"at": "2026-11-25T09:55", "text": "Deploy 2.14"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Deploy 2.14" in html and "by hand" in html
    entry = TimelineEntry.objects.get(text="Deploy 2.14")

    empty = client.post(url("timeline-add", pm.pk), {"at": "2026-11-25T09:56"}, **HTMX)
    assert empty.status_code == 400 and 'id="entry-text_error"' in empty.content.decode()

    again = client.post(url("timeline-import", pm.pk), **HTMX)
    assert f"{imported} events" in again.content.decode()
    assert pm.timeline.count() == imported + 1  # the hand-written entry stays

    gone = client.post(url("timeline-delete", pm.pk, entry.pk))
    assert gone.status_code == 302 and gone["Location"].endswith("#section-timeline")
    assert not TimelineEntry.objects.filter(pk=entry.pk).exists()


def test_markdown_download_is_the_guides_template(pm, vera, bob, client_for):
    fill(pm, bob)
    response = client_for(vera).get(url("markdown", pm.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"] == (
        f'attachment; filename="postmortem-{pm.incident.ref}.md"'
    )
    text = response.content.decode()
    assert text.startswith("# Post-Mortem: Checkout API returning 500s")
    assert "- [ ] Alert on pool saturation - Owner: Bob - Due: 2030-01-31" in text


def test_print_page_renders_every_section(pm, vera, bob, client_for):
    fill(pm, bob)
    response = client_for(vera).get(url("print", pm.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "postmortem-print.css" in html
    for title in ("Summary", "Timeline", "Root Cause", "Impact", "Lessons Learned"):
        assert f"<h2>{title}</h2>" in html
    assert "Checkout failed for 40 minutes." in html
