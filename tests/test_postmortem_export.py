"""The Markdown export follows the guide's post-mortem template section for
section (GUIDE.md "Post-Mortem Document")."""

from __future__ import annotations

import re
from datetime import date

import pytest

from incidents import clock, services
from postmortems import export
from postmortems import services as pm
from postmortems.models import ActionItem, Postmortem
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

GUIDE_SECTIONS = [
    "Summary",
    "Timeline",
    "Root Cause",
    "Impact",
    "What Went Well",
    "What Could Be Improved",
    "Action Items",
    "Lessons Learned",
]


@pytest.fixture
def written(bob, later):
    bob.first_name, bob.last_name = "Bob", "Builder"
    bob.save()
    incident = factories.declare(actor=bob, severity="P0", title="Checkout down")
    services.incident_assign_role(incident=incident, actor=bob, role="commander", user=bob)
    later(minutes=75)
    services.incident_resolve(incident=incident, actor=bob, root_cause="Pool too small")
    postmortem = Postmortem.objects.get(incident=incident)
    postmortem = pm.postmortem_update(
        actor=bob,
        postmortem=postmortem,
        summary="Checkout failed.",
        contributing_factors=["No load test", "Alert threshold too high"],
        users_affected="About 30 % of checkouts",
        data_loss=True,
        data_loss_details="12 carts",
        what_went_well="Fast rollback\nClear roles",
        what_could_be_improved="- Load tests",
        lessons_learned="Pool size follows workers.",
    )
    now = clock.now()
    for title, status in (("Alert on pool saturation", "open"), ("Raise pool", "done")):
        ActionItem.objects.create(
            postmortem=postmortem, title=title, owner=bob, due_date=date(2026, 12, 1),
            status=status, created_at=now, updated_at=now,
        )  # fmt: skip
    return postmortem


def test_the_export_has_the_guides_sections_in_its_order(written):
    text = export.markdown(written)

    assert text.startswith("# Post-Mortem: Checkout down\n\n**Date**: ")
    assert re.findall(r"^## (.+)$", text, flags=re.M) == GUIDE_SECTIONS
    assert "**Duration**: 1 h 15 min" in text
    assert "**Severity**: P0" in text
    assert "**Incident Commander**: Bob Builder" in text


def test_action_items_and_impact_read_as_the_guide_writes_them(written):
    text = export.markdown(written)

    assert "- [ ] Alert on pool saturation - Owner: Bob Builder - Due: 2026-12-01" in text
    assert "- [x] Raise pool - Owner: Bob Builder - Due: 2026-12-01" in text
    assert "- Users affected: About 30 % of checkouts" in text
    assert "- Services affected: api" in text
    assert "- Data loss: Yes - 12 carts" in text
    assert "Pool too small\n\n**Contributing factors**:\n- No load test\n" in text
    assert "## What Went Well\n- Fast rollback\n- Clear roles" in text
    assert "## What Could Be Improved\n- Load tests" in text


def test_the_timeline_lists_each_entry_with_its_time(written):
    text = export.markdown(written)
    timeline = text.split("## Timeline\n")[1].split("\n## ")[0]

    lines = timeline.strip().splitlines()
    assert lines and all(re.match(r"^- \d{4}-\d\d-\d\d \d\d:\d\d UTC: ", line) for line in lines)
    assert any("Resolved" in line for line in lines)


def test_an_empty_postmortem_still_has_every_section(bob):
    incident = factories.declare(actor=bob, severity="P1")
    services.incident_resolve(incident=incident, actor=bob, root_cause="x")
    postmortem = Postmortem.objects.get(incident=incident)
    ActionItem.objects.all().delete()
    postmortem.timeline.all().delete()

    text = export.markdown(postmortem)

    assert re.findall(r"^## (.+)$", text, flags=re.M) == GUIDE_SECTIONS
    assert text.count("_Not written yet._") >= 4
