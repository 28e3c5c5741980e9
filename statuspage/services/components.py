"""Components and component groups: what the status page lists, and their
statuses. Every status change is kept (``ComponentStatusChange``) for the
uptime bars; every change bumps the page (``page_changed``)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from incidents import clock
from incidents.errors import DomainError
from incidents.services.checks import check_choice, check_field_text, check_whole_number
from incidents.services.edits import UNSET, Rows, given

from .. import access
from ..models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Maintenance,
    PublicIncident,
)
from .notify import component_changed
from .page import page_changed

COMPONENT_FIELDS = (
    "name",
    "description",
    "group",
    "status",
    "position",
    "showcase",
    "only_show_if_degraded",
    "start_date",
)
GROUP_FIELDS = ("name", "description", "position")
COMPONENTS = Rows(Component, COMPONENT_FIELDS)
GROUPS = Rows(ComponentGroup, GROUP_FIELDS)
MAX_POSITION = 1_000_000


def _check_flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise DomainError(f"{field} must be true or false.", field=field)
    return value


def _check_unique(model, name: str, *, exclude: int | None = None) -> None:
    rows = model.objects.filter(name__iexact=name)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    if rows.exists():
        noun = model._meta.verbose_name
        raise DomainError(f"A {noun} named {name!r} exists already.", field="name", conflict=True)


def _check_component(state: dict, *, pk: int | None = None) -> dict:
    name = check_field_text(Component, "name", state["name"])
    _check_unique(Component, name, exclude=pk)
    group = state["group"]
    if group is not None and not isinstance(group, ComponentGroup):
        raise DomainError("group must be a component group id or null.", field="group")
    start = state["start_date"]
    if start is not None and not isinstance(start, date):
        raise DomainError("start_date must be a date (YYYY-MM-DD) or null.", field="start_date")
    return {
        "name": name,
        "description": check_field_text(
            Component, "description", state["description"] or "", required=False
        ),
        "group": group,
        "status": check_choice(state["status"], ComponentStatus, "status", error=DomainError),
        "position": check_whole_number(state["position"], "position", low=0, high=MAX_POSITION),
        "showcase": _check_flag(state["showcase"], "showcase"),
        "only_show_if_degraded": _check_flag(
            state["only_show_if_degraded"], "only_show_if_degraded"
        ),
        "start_date": start,
    }


def _record_change(
    component: Component,
    old: str,
    new: str,
    *,
    actor=None,
    incident: PublicIncident | None = None,
    maintenance: Maintenance | None = None,
    now=None,
) -> ComponentStatusChange:
    return ComponentStatusChange.objects.create(
        component=component,
        old_status=old,
        new_status=new,
        at=now or clock.now(),
        incident=incident,
        maintenance=maintenance,
        actor=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def component_create(
    *,
    actor,
    name: str,
    description: str = "",
    group: ComponentGroup | None = None,
    status: str = ComponentStatus.OPERATIONAL,
    position: int | None = None,
    showcase: bool = True,
    only_show_if_degraded: bool = False,
    start_date: date | None = None,
) -> Component:
    access.require_manage(actor)
    if position is None:
        position = Component.objects.count() + 1
    state = _check_component(
        {
            "name": name,
            "description": description,
            "group": group,
            "status": status,
            "position": position,
            "showcase": showcase,
            "only_show_if_degraded": only_show_if_degraded,
            "start_date": start_date,
        }
    )
    now = clock.now()
    component = COMPONENTS.create(
        actor=actor,
        action="component_create",
        state={**state, "created_at": now, "updated_at": now},
    )
    _record_change(component, "", component.status, actor=actor, now=now)
    page_changed()
    return component


@transaction.atomic
def component_update(
    *,
    actor,
    component: Component,
    name: str = UNSET,
    description: str = UNSET,
    group: ComponentGroup | None = UNSET,
    status: str = UNSET,
    position: int = UNSET,
    showcase: bool = UNSET,
    only_show_if_degraded: bool = UNSET,
    start_date: date | None = UNSET,
) -> Component:
    """Edit a component. A status given here is a change by hand (managers);
    responders use ``component_set_status``."""
    access.require_manage(actor)
    component = Component.objects.select_for_update().get(pk=component.pk)
    old_status = component.status
    changes = given(
        name=name,
        description=description,
        group=group,
        status=status,
        position=position,
        showcase=showcase,
        only_show_if_degraded=only_show_if_degraded,
        start_date=start_date,
    )
    changed = COMPONENTS.update(
        actor=actor,
        action="component_update",
        row=component,
        changes=changes,
        check=lambda state: _check_component(state, pk=component.pk),
    )
    if changed:
        component.updated_at = clock.now()
        component.save(update_fields=["updated_at"])
        if "status" in changed:
            _record_change(component, old_status, component.status, actor=actor)
            component_changed(component=component, old_status=old_status)
        page_changed()
    return component


@transaction.atomic
def component_delete(*, actor, component: Component) -> None:
    access.require_manage(actor)
    if component.incidents.filter(resolved_at__isnull=True).exists():
        raise DomainError(
            f"{component.name} is affected by an unresolved public incident; resolve it first.",
            field="component",
            conflict=True,
        )
    COMPONENTS.delete(actor=actor, action="component_delete", row=component)
    page_changed()


def parse_component_statuses(items) -> list[tuple[Component, str]]:
    """``[{"id": <code>, "status": <status>}, …]`` as (component, status)
    pairs, or ``DomainError`` naming ``components``; one query."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise DomainError('components must be a list of {"id", "status"}.', field="components")
    wanted: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise DomainError(
                'Each of components must be {"id": <component id>, "status": <status>}.',
                field="components",
            )
        status = item.get("status")
        if status not in ComponentStatus.values:
            allowed = ", ".join(ComponentStatus.values)
            raise DomainError(
                f"components: status must be one of {allowed} (got {status!r}).",
                field="components",
            )
        wanted[item["id"]] = status
    found = {c.code: c for c in Component.objects.select_for_update().filter(code__in=wanted)}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise DomainError(f"components: no component {missing[0]!r}.", field="components")
    return [(found[code], status) for code, status in wanted.items()]


def apply_statuses(
    pairs: list[tuple[Component, str]],
    *,
    actor=None,
    incident: PublicIncident | None = None,
    maintenance: Maintenance | None = None,
    notify_subscribers: bool = True,
) -> list[dict]:
    """Set each component's status; the ``affected_components`` snapshot of
    the changes (Statuspage's shape), for the update that made them."""
    now = clock.now()
    affected = []
    for component, status in pairs:
        old = component.status
        affected.append(
            {
                "code": component.code,
                "name": component.name,
                "old_status": old,
                "new_status": status,
            }
        )
        if old == status:
            continue
        component.status = status
        component.updated_at = now
        component.save(update_fields=["status", "updated_at"])
        _record_change(
            component, old, status, actor=actor, incident=incident, maintenance=maintenance, now=now
        )
        if notify_subscribers:
            component_changed(component=component, old_status=old)
    return affected


@transaction.atomic
def component_set_status(*, actor, component: Component, status: str) -> Component:
    """A responder sets one component's status by hand."""
    access.require_respond(actor)
    status = check_choice(status, ComponentStatus, "status", error=DomainError)
    pairs = parse_component_statuses([{"id": component.code, "status": status}])
    old = pairs[0][0].status
    apply_statuses(pairs, actor=actor)
    if old != status:  # setting the status it has changes nothing public
        page_changed()
    return pairs[0][0]


def _check_group(state: dict, *, pk: int | None = None) -> dict:
    name = check_field_text(ComponentGroup, "name", state["name"])
    _check_unique(ComponentGroup, name, exclude=pk)
    return {
        "name": name,
        "description": check_field_text(
            ComponentGroup, "description", state["description"] or "", required=False
        ),
        "position": check_whole_number(state["position"], "position", low=0, high=MAX_POSITION),
    }


@transaction.atomic
def group_create(
    *, actor, name: str, description: str = "", position: int | None = None
) -> ComponentGroup:
    access.require_manage(actor)
    if position is None:
        position = ComponentGroup.objects.count() + 1
    state = _check_group({"name": name, "description": description, "position": position})
    now = clock.now()
    group = GROUPS.create(
        actor=actor, action="group_create", state={**state, "created_at": now, "updated_at": now}
    )
    page_changed()
    return group


@transaction.atomic
def group_update(
    *,
    actor,
    group: ComponentGroup,
    name: str = UNSET,
    description: str = UNSET,
    position: int = UNSET,
) -> ComponentGroup:
    access.require_manage(actor)
    changed = GROUPS.update(
        actor=actor,
        action="group_update",
        row=group,
        changes=given(name=name, description=description, position=position),
        check=lambda state: _check_group(state, pk=group.pk),
    )
    if changed:
        group.updated_at = clock.now()
        group.save(update_fields=["updated_at"])
        page_changed()
    return group


@transaction.atomic
def group_delete(*, actor, group: ComponentGroup) -> None:
    """Delete a group; its components stay, ungrouped."""
    access.require_manage(actor)
    GROUPS.delete(actor=actor, action="group_delete", row=group)
    page_changed()
