"""The guide's policies as data managers edit: the severity policies (P0..P3
targets, channels, on-call involvement) and the escalation policies with
their levels. Every change is one function here.

Each is keyword-only and atomic, checks the whole row as it would be stored
(``DomainError`` naming the field), writes, and writes one audit row in the
same transaction. Nothing is started after commit: incidents read a severity
policy when they are declared or change severity, and copy the escalation
levels when declared (``engine.escalation.copy_policies``), so an edit here
never changes an escalation already running.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from ..errors import DomainError
from ..models import (
    EscalationLevel,
    EscalationPath,
    EscalationPolicy,
    NotifyChannel,
    OncallInvolvement,
    Schedule,
    Severity,
    SeverityPolicy,
)
from .checks import check_choice, check_field_text, check_whole_number, others
from .edits import UNSET, Rows, given

User = get_user_model()

COUNT_MAX = 2_147_483_647  # PositiveIntegerField (seconds, minutes)
LEVEL_MAX = 32_767  # PositiveSmallIntegerField

# What people edit of each (the entry points' forms and serializers show
# these), which the audit log keeps.
SEVERITY_FIELDS = (
    "name",
    "response_time",
    "ack_target_seconds",
    "ack_next_business_day",
    "resolve_target_seconds",
    "update_cadence_seconds",
    "notify_channels",
    "oncall",
    "oncall_required",
    "criteria",
    "examples",
)
ESCALATION_FIELDS = ("name", "path", "auto_severities", "description")
LEVEL_FIELDS = (
    "level",
    "name",
    "starts_after_minutes",
    "critical_only",
    "schedule",
    "user",
    "group",
)
SEVERITY_POLICIES = Rows(SeverityPolicy, ("severity", *SEVERITY_FIELDS))
ESCALATION_POLICIES = Rows(EscalationPolicy, ESCALATION_FIELDS)
ESCALATION_LEVELS = Rows(EscalationLevel, ("policy", *LEVEL_FIELDS))


# --- checks ----------------------------------------------------------------------------


def _flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise DomainError(f"{field} must be true or false.", field=field)
    return value


def _channels(value) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise DomainError(
            f"notify_channels must be a list of {', '.join(NotifyChannel.values)}.",
            field="notify_channels",
        )
    channels = []
    for channel in value:
        check_choice(channel, NotifyChannel, "notify_channels", error=DomainError)
        if channel not in channels:
            channels.append(channel)
    return channels


def _severity_state(state: dict) -> dict:
    """A whole severity policy as it would be stored, checked. The guide's
    P3 acknowledges "next business day": that replaces a fixed target."""
    clean = {
        "name": check_field_text(SeverityPolicy, "name", state["name"]),
        "response_time": check_field_text(SeverityPolicy, "response_time", state["response_time"]),
        "ack_next_business_day": _flag(state["ack_next_business_day"], "ack_next_business_day"),
        "notify_channels": _channels(state["notify_channels"]),
        "oncall": check_choice(state["oncall"], OncallInvolvement, "oncall", error=DomainError),
        "oncall_required": _flag(state["oncall_required"], "oncall_required"),
        "criteria": check_field_text(SeverityPolicy, "criteria", state["criteria"], required=False),
        "examples": check_field_text(SeverityPolicy, "examples", state["examples"], required=False),
    }
    for field in ("ack_target_seconds", "resolve_target_seconds", "update_cadence_seconds"):
        clean[field] = check_whole_number(state[field], field, low=0, high=COUNT_MAX, optional=True)
    if clean["ack_next_business_day"] and clean["ack_target_seconds"] is not None:
        raise DomainError(
            "Choose either an acknowledge target in seconds or 'next business day', not both.",
            field="ack_target_seconds",
        )
    return clean


def _auto_severities(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise DomainError(
            'auto_severities must be a list of severities, such as ["P0", "P1"].',
            field="auto_severities",
        )
    for severity in value:
        check_choice(severity, Severity, "auto_severities", error=DomainError)
    return sorted(set(value))


def _escalation_state(state: dict, policy: EscalationPolicy | None) -> dict:
    """A whole escalation policy as it would be stored, checked; ``policy``
    is the row being changed (None for a new one)."""
    clean = {
        "name": check_field_text(EscalationPolicy, "name", state["name"]),
        "path": check_choice(state["path"], EscalationPath, "path", error=DomainError),
        "auto_severities": _auto_severities(state["auto_severities"]),
        "description": check_field_text(
            EscalationPolicy, "description", state["description"], required=False
        ),
    }
    policies = others(EscalationPolicy, policy)
    if clash := policies.filter(path=clean["path"]).first():
        raise DomainError(
            f"The {clean['path']} path already has its policy, {clash.name}.", field="path"
        )
    if policies.filter(name=clean["name"]).exists():
        raise DomainError(
            f"An escalation policy is already called {clean['name']!r}.", field="name"
        )
    return clean


def _level_state(state: dict, row: EscalationLevel | None) -> dict:
    """A whole escalation level as it would be stored, checked: it belongs to
    a policy, its number is free there, and it pages someone."""
    policy = state["policy"]
    if not isinstance(policy, EscalationPolicy) or policy.pk is None:
        raise DomainError("Choose the escalation policy.", field="policy")
    # From 1: a business path at level 0 has not started.
    number = check_whole_number(state["level"], "level", low=1, high=LEVEL_MAX)
    if others(EscalationLevel, row).filter(policy=policy, level=number).exists():
        raise DomainError(f"{policy.name} already has a level {number}.", field="level")
    schedule, user, group = state["schedule"], state["user"], state["group"]
    for field, value, model in (
        ("schedule", schedule, Schedule),
        ("user", user, User),
        ("group", group, Group),
    ):
        if value is not None and (not isinstance(value, model) or value.pk is None):
            raise DomainError(f"{field} must be a {model._meta.verbose_name}.", field=field)
    if schedule is None and user is None and group is None:
        raise DomainError(
            "A level pages someone: choose a schedule, a user or a group.", field="schedule"
        )
    if user is not None and not user.is_active:
        raise DomainError(
            f"{user.get_username()} is deactivated and cannot be paged.", field="user"
        )
    return {
        "policy": policy,
        "level": number,
        "name": check_field_text(EscalationLevel, "name", state["name"]),
        "starts_after_minutes": check_whole_number(
            state["starts_after_minutes"], "starts_after_minutes", low=0, high=COUNT_MAX
        ),
        "critical_only": _flag(state["critical_only"], "critical_only"),
        "schedule": schedule,
        "user": user,
        "group": group,
    }


# --- severity policies -----------------------------------------------------------------


@transaction.atomic
def severity_policy_create(
    *,
    actor,
    severity: str,
    name: str,
    response_time: str,
    oncall: str,
    ack_target_seconds: int | None = None,
    ack_next_business_day: bool = False,
    resolve_target_seconds: int | None = None,
    update_cadence_seconds: int | None = None,
    notify_channels: Iterable[str] = (),
    oncall_required: bool = False,
    criteria: str = "",
    examples: str = "",
) -> SeverityPolicy:
    """Restore the policy of a severity that has none (there is one per
    guide severity; without it that severity cannot be declared)."""
    check_choice(severity, Severity, "severity", error=DomainError)
    if SeverityPolicy.objects.filter(severity=severity).exists():
        raise DomainError(
            f"{severity} already has its policy; change that one.", field="severity", conflict=True
        )
    state = _severity_state(
        {
            "name": name,
            "response_time": response_time,
            "ack_target_seconds": ack_target_seconds,
            "ack_next_business_day": ack_next_business_day,
            "resolve_target_seconds": resolve_target_seconds,
            "update_cadence_seconds": update_cadence_seconds,
            "notify_channels": list(notify_channels),
            "oncall": oncall,
            "oncall_required": oncall_required,
            "criteria": criteria,
            "examples": examples,
        }
    )
    return SEVERITY_POLICIES.create(
        actor=actor, action="severity_policy_create", state={"severity": severity, **state}
    )


@transaction.atomic
def severity_policy_update(
    *,
    actor,
    policy: SeverityPolicy,
    name: str = UNSET,
    response_time: str = UNSET,
    ack_target_seconds: int | None = UNSET,
    ack_next_business_day: bool = UNSET,
    resolve_target_seconds: int | None = UNSET,
    update_cadence_seconds: int | None = UNSET,
    notify_channels: Iterable[str] = UNSET,
    oncall: str = UNSET,
    oncall_required: bool = UNSET,
    criteria: str = UNSET,
    examples: str = UNSET,
) -> SeverityPolicy:
    """Change the given fields of a severity's policy; the whole policy must
    still hold (a fixed acknowledge target or "next business day", not both).
    Incidents declared from now on get the new targets; running ones keep
    the deadlines they have."""
    SEVERITY_POLICIES.update(
        actor=actor,
        action="severity_policy_update",
        row=policy,
        changes=given(
            name=name,
            response_time=response_time,
            ack_target_seconds=ack_target_seconds,
            ack_next_business_day=ack_next_business_day,
            resolve_target_seconds=resolve_target_seconds,
            update_cadence_seconds=update_cadence_seconds,
            notify_channels=notify_channels,
            oncall=oncall,
            oncall_required=oncall_required,
            criteria=criteria,
            examples=examples,
        ),
        check=_severity_state,
        also=("updated_at",),
    )
    return policy


# --- escalation policies ----------------------------------------------------------------


@transaction.atomic
def escalation_policy_create(
    *,
    actor,
    name: str,
    path: str,
    auto_severities: Iterable[str] | None = (),
    description: str = "",
) -> EscalationPolicy:
    """The policy of an escalation path (one per path); its levels are added
    with ``escalation_level_create``."""
    state = _escalation_state(
        {
            "name": name,
            "path": path,
            "auto_severities": list(auto_severities) if auto_severities is not None else None,
            "description": description,
        },
        None,
    )
    return ESCALATION_POLICIES.create(actor=actor, action="escalation_policy_create", state=state)


@transaction.atomic
def escalation_policy_update(
    *,
    actor,
    policy: EscalationPolicy,
    name: str = UNSET,
    path: str = UNSET,
    auto_severities: Iterable[str] | None = UNSET,
    description: str = UNSET,
) -> EscalationPolicy:
    """Change the given fields. Incidents already declared keep the copy
    they were declared with (their levels and the severities that climb by
    the clock); new incidents get this."""
    ESCALATION_POLICIES.update(
        actor=actor,
        action="escalation_policy_update",
        row=policy,
        changes=given(
            name=name, path=path, auto_severities=auto_severities, description=description
        ),
        check=lambda state: _escalation_state(state, policy),
    )
    return policy


@transaction.atomic
def escalation_policy_delete(*, actor, policy: EscalationPolicy) -> None:
    """Delete a policy and its levels. Running incidents keep their copy;
    new ones on this path page nobody until a policy is made again."""
    levels = [f"L{level.level} {level.name}" for level in policy.levels.order_by("level")]
    ESCALATION_POLICIES.delete(
        actor=actor, action="escalation_policy_delete", row=policy, extra={"levels": levels}
    )


# --- escalation levels ------------------------------------------------------------------


@transaction.atomic
def escalation_level_create(
    *,
    actor,
    policy: EscalationPolicy,
    level: int,
    name: str,
    starts_after_minutes: int = 0,
    critical_only: bool = False,
    schedule: Schedule | None = None,
    user=None,
    group: Group | None = None,
) -> EscalationLevel:
    """A level of ``policy``: who it pages (the on-call person of
    ``schedule``, ``user``, the members of ``group``: at least one) and the
    minute after the path starts when it is reached."""
    state = _level_state(
        {
            "policy": policy,
            "level": level,
            "name": name,
            "starts_after_minutes": starts_after_minutes,
            "critical_only": critical_only,
            "schedule": schedule,
            "user": user,
            "group": group,
        },
        None,
    )
    return ESCALATION_LEVELS.create(actor=actor, action="escalation_level_create", state=state)


@transaction.atomic
def escalation_level_update(
    *,
    actor,
    escalation_level: EscalationLevel,
    policy: EscalationPolicy = UNSET,
    level: int = UNSET,
    name: str = UNSET,
    starts_after_minutes: int = UNSET,
    critical_only: bool = UNSET,
    schedule: Schedule | None = UNSET,
    user=UNSET,
    group: Group | None = UNSET,
) -> EscalationLevel:
    """Change the given fields of a level; it must still page someone."""
    ESCALATION_LEVELS.update(
        actor=actor,
        action="escalation_level_update",
        row=escalation_level,
        changes=given(
            policy=policy,
            level=level,
            name=name,
            starts_after_minutes=starts_after_minutes,
            critical_only=critical_only,
            schedule=schedule,
            user=user,
            group=group,
        ),
        check=lambda state: _level_state(state, escalation_level),
    )
    return escalation_level


@transaction.atomic
def escalation_level_delete(*, actor, escalation_level: EscalationLevel) -> None:
    """Remove a level; incidents already declared keep their copy of it."""
    ESCALATION_LEVELS.delete(actor=actor, action="escalation_level_delete", row=escalation_level)
