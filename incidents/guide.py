"""The Incident Response Guide as data: severity defaults and permission groups.

``ensure_guide_defaults`` runs after every ``migrate`` (and test-database
flush). It only creates what is missing, so a manager's edits in the admin
are never overwritten.
"""

from __future__ import annotations

from .models import NotifyChannel, OncallInvolvement, Severity

MINUTE = 60
HOUR = 60 * MINUTE

GUIDE_POLICIES: list[dict] = [
    {
        "severity": Severity.P0,
        "name": "Critical",
        "response_time": "Immediate (< 5 minutes)",
        "ack_target_seconds": 5 * MINUTE,
        "ack_next_business_day": False,
        "resolve_target_seconds": 1 * HOUR,
        "update_cadence_seconds": 15 * MINUTE,
        "notify_channels": [NotifyChannel.PAGERDUTY, NotifyChannel.SLACK],
        "oncall": OncallInvolvement.PAGED,
        "oncall_required": True,
        "criteria": (
            "Complete service outage\nData loss or corruption\nSecurity breach\n"
            "Error rate > 5%\nAPI completely unavailable"
        ),
        "examples": (
            "Database down\nAll API pods crashed\nRedis unavailable\n"
            "Critical security vulnerability"
        ),
    },
    {
        "severity": Severity.P1,
        "name": "High",
        "response_time": "< 15 minutes",
        "ack_target_seconds": 15 * MINUTE,
        "ack_next_business_day": False,
        "resolve_target_seconds": 4 * HOUR,
        "update_cadence_seconds": 30 * MINUTE,
        "notify_channels": [NotifyChannel.SLACK, NotifyChannel.EMAIL],
        "oncall": OncallInvolvement.NOTIFIED,
        "oncall_required": False,
        "criteria": (
            "Partial service degradation\nImportant features unavailable\n"
            "Performance severely degraded\nError rate 2-5%"
        ),
        "examples": (
            "Claude API rate limited\nHigh latency (P95 > 3s)\nSpecific endpoints failing\n"
            "Cache degraded performance"
        ),
    },
    {
        "severity": Severity.P2,
        "name": "Medium",
        "response_time": "< 1 hour",
        "ack_target_seconds": 1 * HOUR,
        "ack_next_business_day": False,
        "resolve_target_seconds": 24 * HOUR,
        "update_cadence_seconds": 60 * MINUTE,
        "notify_channels": [NotifyChannel.SLACK],
        "oncall": OncallInvolvement.INFORMED,
        "oncall_required": False,
        "criteria": (
            "Minor service degradation\nNon-critical features affected\n"
            "Performance moderately degraded\nError rate 1-2%"
        ),
        "examples": (
            "Elevated error rate\nSlow database queries\nLow cache hit rate\n"
            "Minor performance issues"
        ),
    },
    {
        "severity": Severity.P3,
        "name": "Low",
        "response_time": "Next business day",
        "ack_target_seconds": None,
        "ack_next_business_day": True,
        "resolve_target_seconds": None,
        "update_cadence_seconds": None,
        "notify_channels": [NotifyChannel.EMAIL_DIGEST],
        "oncall": OncallInvolvement.NOT_REQUIRED,
        "oncall_required": False,
        "criteria": (
            "Cosmetic issues\nMinimal user impact\nPerformance slightly degraded\nError rate < 1%"
        ),
        "examples": (
            "Single user reports\nUI glitches\nNon-critical warnings\nMinor configuration issues"
        ),
    },
]

# The guide's "Escalation Paths": (level, name, minute it starts, critical only).
# Each level pages whoever is on call in the schedule of the same name.
GUIDE_ESCALATION: dict[str, dict] = {
    "technical": {
        "name": "Technical escalation",
        "auto_severities": [Severity.P0, Severity.P1],
        "description": "Climbs when a level passes without progress: unacknowledged at L1, "
        "not yet identified later. L4 is for critical incidents only.",
        "levels": [
            (1, "On-call engineer", 0, False),
            (2, "Senior engineer", 15, False),
            (3, "Engineering manager", 30, False),
            (4, "VP Engineering / CTO", 60, True),
        ],
    },
    "business": {
        "name": "Business escalation",
        "auto_severities": [Severity.P0, Severity.P1, Severity.P2, Severity.P3],
        "description": "Starts when an incident is customer-impacting, or by hand.",
        "levels": [
            (1, "Customer support lead", 0, False),
            (2, "Customer success manager", 15, False),
            (3, "VP Customer Success", 30, False),
            (4, "CEO", 60, False),
        ],
    },
}

VIEWER, RESPONDER, MANAGER = "Viewer", "Responder", "Manager"

# App labels whose models the groups get rights on.
_PROJECT_APPS = ("incidents", "postmortems", "statuspage")


def ensure_guide_defaults(**_kwargs) -> None:
    """Create the guide's severity policies and the three groups if missing."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    from .models import SeverityPolicy

    for policy in GUIDE_POLICIES:
        SeverityPolicy.objects.get_or_create(
            severity=policy["severity"],
            defaults={k: v for k, v in policy.items() if k != "severity"},
        )

    ensure_escalation_defaults()

    # The apps after incidents in INSTALLED_APPS get their permissions on
    # their own post_migrate, after this one: create them now, so viewers can
    # see the status page's and post-mortems' records from the first migrate.
    from django.apps import apps as installed
    from django.contrib.auth.management import create_permissions

    for label in _PROJECT_APPS:
        if installed.is_installed(label):
            create_permissions(installed.get_app_config(label), verbosity=0)

    project = Permission.objects.filter(content_type__app_label__in=_PROJECT_APPS)
    views = project.filter(codename__startswith="view_")
    respond = project.filter(codename="respond_incident")
    # People, and a look at the groups: changing a group is granting raw
    # permissions, which only a superuser does (incidents.privileges).
    people = Permission.objects.filter(content_type__app_label="auth").filter(
        Q(content_type__model="user") | Q(content_type__model="group", codename="view_group")
    )
    grants = {
        VIEWER: views,
        RESPONDER: views | respond,
        MANAGER: project | people,
    }
    for name, permissions in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        # add() is idempotent; it never removes what a manager granted by hand.
        group.permissions.add(*permissions)


def ensure_escalation_defaults() -> None:
    """Create the guide's two escalation policies, each level paging the
    on-call person of a schedule named after the guide's role."""
    from django.utils.text import slugify

    from .models import EscalationLevel, EscalationPolicy, Schedule

    for path, spec in GUIDE_ESCALATION.items():
        policy, created = EscalationPolicy.objects.get_or_create(
            path=path,
            defaults={
                "name": spec["name"],
                "auto_severities": [str(s) for s in spec["auto_severities"]],
                "description": spec["description"],
            },
        )
        if not created:
            continue
        for level, name, minute, critical_only in spec["levels"]:
            schedule, _ = Schedule.objects.get_or_create(
                slug=slugify(name), defaults={"name": name}
            )
            EscalationLevel.objects.create(
                policy=policy,
                level=level,
                name=name,
                starts_after_minutes=minute,
                critical_only=critical_only,
                schedule=schedule,
            )
