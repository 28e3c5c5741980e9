"""The probes of bench/hostile_inputs.py: one function per entry point,
each sending every class of hostile input it can take (see that module's
docstring), and the world they address (people, tokens, an incident, a
schedule, a channel, an integration of each kind, an acknowledge link)."""

from __future__ import annotations

import json

from bench.hostile_values import (
    BIG_DIGITS,
    BIG_ID,
    CLASSES,
    FAR_DATES,
    INGEST_KINDS,
    LONG,
    NUL,
    SURROGATE_JSON,
    SURROGATE_URL,
    URL_VALUES,
    Probe,
    deep,
    json_bodies,
    raw_json,
)

# --- fixtures ------------------------------------------------------------------


def setup_world() -> dict:
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from incidents import ack_links, services
    from incidents.guide import MANAGER, RESPONDER
    from incidents.models import Channel, Rotation, RotationMember, Schedule
    from incidents.services.integrations import integration_create
    from incidents.services.tokens import api_token_create

    users = get_user_model()
    alice = users.objects.create_user("alice", "alice@treebeard.test", "pw", is_staff=True)
    alice.groups.add(Group.objects.get(name=MANAGER))
    bob = users.objects.create_user("bob", "bob@treebeard.test", "pw")
    bob.groups.add(Group.objects.get(name=RESPONDER))
    _, key = api_token_create(actor=alice, user=alice, scopes=("read", "write"))
    incident = services.incident_declare(
        actor=alice, title="Checkout down", severity="P2", summary="", impact="", services=["api"]
    )
    schedule = Schedule.objects.create(name="Primary", slug="primary", time_zone="Etc/GMT+12")
    rotation = Rotation.objects.create(
        schedule=schedule, name="Weekly", starts_at=datetime(2026, 1, 5, 9, tzinfo=UTC)
    )
    RotationMember.objects.create(rotation=rotation, user=bob, position=0)
    channel = Channel.objects.create(name="ops", kind="email", target="ops@treebeard.test")
    tokens = {}
    for kind in [*INGEST_KINDS, "pagerduty"]:
        integration, token = integration_create(
            actor=alice, name=f"{kind} probe", kind=kind, rate_limit_per_minute=1_000_000
        )
        tokens[kind] = (integration, token)
    return {
        "alice": alice,
        "bob": bob,
        "key": key,
        "incident": incident,
        "schedule": schedule,
        "channel": channel,
        "tokens": tokens,
        "ack": ack_links.token_for(incident, bob),
    }


# --- entry points -----------------------------------------------------------


def ingestion(probe: Probe, world: dict) -> None:
    alert = {"title": "Disk full", "status": "firing", "service": "api", "dedup_key": "d1"}
    templates = {
        "alertmanager": {"alerts": [{"status": "firing", "labels": {"alertname": "x"}}]},
        "grafana": {"alerts": [{"status": "firing", "labels": {"alertname": "x"}}]},
        "datadog": {"id": "1", "title": "x", "alert_transition": "Triggered"},
        "sentry": {"action": "triggered", "data": {"event": {"title": "x"}}},
        "generic": alert,
    }
    for kind in INGEST_KINDS:
        path = f"/api/v1/integrations/{world['tokens'][kind][1]}/{kind}/"
        entry = f"ingest:{kind}"
        template = templates[kind]
        bodies = json_bodies(template, list(template), [])
        gen = json_bodies(alert, ["title", "service", "dedup_key", "status"], ["timestamp"])
        for cls in CLASSES:
            for body in bodies.get(cls, []) + (gen.get(cls, []) if kind != "generic" else []):
                probe.json(cls, entry, "POST", path, body)
        for date in FAR_DATES:
            probe.json(
                "date", entry, "POST", path, json.dumps({**alert, "timestamp": date}).encode()
            )
        probe.json(
            "long", entry, "POST", path, json.dumps({**alert, "labels": {"service": LONG}}).encode()
        )
        probe.json("percent", entry, "POST", f"/api/v1/integrations/%ff/{kind}/", b"{}")
        probe.json("nul", entry, "POST", f"/api/v1/integrations/%00/{kind}/", b"{}")
        probe.json(
            "surrogate", entry, "POST", f"/api/v1/integrations/{SURROGATE_URL}/{kind}/", b"{}"
        )


def enqueue(probe: Probe, world: dict) -> None:
    key = world["tokens"]["pagerduty"][1]
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "k1",
        "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"},
    }
    bodies = json_bodies(event, ["dedup_key", "event_action", "routing_key"], [])
    for cls in CLASSES:
        for body in bodies.get(cls, []):
            probe.json(cls, "/v2/enqueue", "POST", "/v2/enqueue", body)
    for field in ("summary", "source", "component", "group", "class"):
        for cls, value in (
            ("nul", json.dumps(NUL)),
            ("surrogate", SURROGATE_JSON),
            ("long", json.dumps(LONG)),
        ):
            payload = json.dumps(event["payload"] | {field: "__RAW__"}).replace('"__RAW__"', value)
            body = json.dumps(event | {"payload": "__P__"}).replace('"__P__"', payload)
            probe.json(cls, "/v2/enqueue", "POST", "/v2/enqueue", body.encode())
    for date in FAR_DATES:
        body = event | {"payload": event["payload"] | {"timestamp": date}}
        probe.json("date", "/v2/enqueue", "POST", "/v2/enqueue", json.dumps(body).encode())
    for raw in ("NaN", BIG_DIGITS):
        payload = json.dumps(event["payload"] | {"custom_details": "__RAW__"}).replace(
            '"__RAW__"', raw
        )
        body = json.dumps(event | {"payload": "__P__"}).replace('"__P__"', payload)
        probe.json(
            "nan" if raw == "NaN" else "bigint", "/v2/enqueue", "POST", "/v2/enqueue", body.encode()
        )


def api_bodies(probe: Probe, world: dict) -> None:
    ref = world["incident"].ref
    inc = f"/api/v1/incidents/{ref}/"
    sched = f"/api/v1/schedules/{world['schedule'].pk}/"
    integration = world["tokens"]["generic"][0]
    targets = [
        (
            "POST",
            "/api/v1/incidents/",
            {"title": "t", "severity": "P2", "services": ["api"]},
            ["title", "summary", "impact", "commander", "severity", "detected_at"],
            ["is_drill"],
        ),
        (
            "PATCH",
            inc,
            {"title": "t"},
            ["title", "summary", "impact", "reason"],
            ["customer_impacting"],
        ),
        ("POST", inc + "updates/", {"message": "m"}, ["message", "status", "visibility"], []),
        (
            "POST",
            inc + "roles/",
            {"role": "responder", "user": "bob"},
            ["role", "user"],
            ["relieve"],
        ),
        ("POST", inc + "escalate/", {"reason": "r"}, ["reason", "path"], []),
        ("POST", inc + "mitigate/", {"reason": "r"}, ["reason"], []),
        (
            "POST",
            inc + "resolve/",
            {"root_cause": "r"},
            ["root_cause", "resolution"],
            ["false_positive"],
        ),
        ("POST", inc + "reopen/", {"reason": "r"}, ["reason"], []),
        (
            "POST",
            "/api/v1/schedules/",
            {"name": "n", "time_zone": "UTC"},
            ["name", "slug", "description", "time_zone"],
            [],
        ),
        ("PATCH", sched, {"description": "d"}, ["name", "description", "time_zone"], []),
        (
            "POST",
            sched + "overrides/",
            {"user": "bob", "starts_at": "2026-12-24T09:00:00Z", "ends_at": "2026-12-25T09:00:00Z"},
            ["user", "reason", "starts_at", "ends_at"],
            [],
        ),
        (
            "POST",
            "/api/v1/channels/",
            {"name": "c", "kind": "email", "target": "a@b.test"},
            ["name", "kind", "target"],
            ["enabled"],
        ),
        (
            "PATCH",
            f"/api/v1/channels/{world['channel'].pk}/",
            {"name": "c2"},
            ["name", "target"],
            [],
        ),
        (
            "POST",
            "/api/v1/integrations/",
            {"name": "i", "kind": "generic"},
            ["name", "kind", "default_service"],
            ["rate_limit_per_minute"],
        ),
        (
            "PATCH",
            f"/api/v1/integrations/{integration.pk}/",
            {"name": "i2"},
            ["name", "default_service"],
            ["rate_limit_per_minute"],
        ),
        (
            "PATCH",
            "/api/v1/severities/P3/",
            {"name": "Low"},
            ["name", "response_time", "criteria"],
            ["ack_target_seconds", "update_cadence_seconds"],
        ),
    ]
    for method, path, template, text_fields, number_fields in targets:
        for cls, bodies in json_bodies(template, text_fields, number_fields).items():
            for body in bodies:
                probe.json(cls, "api:body", method, path, body)
        for key in ("services", "notify_channels", "severities", "severity_mapping"):
            for cls, raw in (
                ("nul", f"[{json.dumps(NUL)}]"),
                ("surrogate", f"[{SURROGATE_JSON}]"),
                ("long", json.dumps([LONG, "y" * 101])),
                ("deep", deep()),
                ("nonobject", '"api"'),
            ):
                probe.json(cls, "api:body", method, path, raw_json(template, key, raw))
        for date in FAR_DATES:
            for key in ("detected_at", "starts_at", "ends_at"):
                probe.json(
                    "date", "api:body", method, path, json.dumps(template | {key: date}).encode()
                )
        probe.json(
            "malformed",
            "api:body",
            method,
            path,
            b"--x\r\nbroken",
            "multipart/form-data; boundary=x",
        )
        probe.json("malformed", "api:body", method, path, b"--x\r\n", "multipart/form-data")
        probe.json(
            "malformed",
            "api:body",
            method,
            path,
            b"a=%ff&b=%00&" + b"c" * 10,
            "application/x-www-form-urlencoded",
        )
        probe.json(
            "malformed", "api:body", method, path, b"x" * 100, "application/json; charset=bogus"
        )
    probe.json(
        "long",
        "api:body",
        "PATCH",
        f"/api/v1/integrations/{integration.pk}/",
        json.dumps({"default_service": "y" * 101}).encode(),
    )
    probe.json(
        "long",
        "api:body",
        "POST",
        "/api/v1/integrations/",
        json.dumps({"name": "i", "kind": "generic", "default_service": "y" * 101}).encode(),
    )


def stored_times(probe: Probe, world: dict) -> None:
    """A far time that is stored and then shown: the write may answer 201,
    the pages that show it must not 500 (the year-9999 override)."""
    sched = world["schedule"].pk
    pages = [
        (world["session"], "/oncall/"),
        (world["session"], "/me/"),
        (world["session"], "/"),
        (world["api"], "/api/v1/schedules/"),
        (world["api"], f"/api/v1/schedules/{sched}/"),
        (world["api"], "/api/v1/oncall/"),
        (world["api"], "/api/v1/incidents/"),
    ]
    bodies = [
        (
            f"/api/v1/schedules/{sched}/overrides/",
            {"user": "bob", "starts_at": "9999-12-30T00:00:00-12:00", "ends_at": FAR_DATES[0]},
        ),
        (
            f"/api/v1/schedules/{sched}/overrides/",
            {"user": "bob", "starts_at": "0001-01-01T00:00:00+14:00", "ends_at": FAR_DATES[0]},
        ),
        ("/api/v1/incidents/", {"title": "t", "severity": "P3", "detected_at": FAR_DATES[0]}),
        ("/api/v1/incidents/", {"title": "t", "severity": "P3", "detected_at": FAR_DATES[1]}),
    ]
    for path, body in bodies:
        probe.client = world["api"]
        probe.send(
            "date",
            "api:body",
            "POST",
            path,
            then=pages,
            data=json.dumps(body).encode(),
            content_type="application/json",
        )
    probe.client = world["session"]
    prefix = f"s{sched}-"
    form = (
        f"{prefix}user={world['bob'].pk}&{prefix}starts_at=9999-12-31T20:00"
        f"&{prefix}ends_at=9999-12-31T23:59"
    )
    probe.send(
        "date",
        "dashboard:form",
        "POST",
        f"/oncall/schedules/{sched}/overrides/",
        then=pages,
        data=form.encode(),
        content_type="application/x-www-form-urlencoded",
    )


def api_queries(probe: Probe, world: dict) -> None:
    sched = world["schedule"].pk
    lists = [
        "/api/v1/incidents/",
        "/api/v1/schedules/",
        "/api/v1/channels/",
        "/api/v1/integrations/",
        f"/api/v1/incidents/{world['incident'].ref}/timeline/",
    ]
    for path in lists:
        for cls, query in (
            ("bigint", f"page={BIG_DIGITS}"),
            ("bigint", f"page_size={BIG_ID}"),
            ("bigint", f"page={BIG_ID}"),
            ("nan", "page=NaN"),
            ("nan", "page_size=Infinity"),
            ("nul", "page=%00"),
            ("percent", "page=%ff"),
            ("surrogate", f"page={SURROGATE_URL}"),
        ):
            probe.get(cls, "api:query", f"{path}?{query}")
    filters = [
        "status",
        "severity",
        "service",
        "source",
        "q",
        "open",
        "is_drill",
        "detected_after",
        "detected_before",
    ]
    for name in filters:
        for cls, value in URL_VALUES:
            probe.get(cls, "api:query", f"/api/v1/incidents/?{name}={value}")
    for date in FAR_DATES:
        q = date.replace("+", "%2B")
        probe.get("date", "api:query", f"/api/v1/incidents/?detected_after={q}")
        probe.get("date", "api:query", f"/api/v1/incidents/?detected_before={q}")
        probe.get("date", "api:query", f"/api/v1/oncall/?at={q}")
        probe.get("date", "api:query", f"/api/v1/schedules/{sched}/shifts/?start={q}")
        probe.get("date", "api:query", f"/api/v1/schedules/{sched}/shifts/?end={q}")
    probe.get("date", "api:query", "/api/v1/incidents/?detected_after=9999-12-31")
    probe.get("date", "api:query", "/api/v1/incidents/?detected_after=0001-01-01")
    probe.get("date", "api:query", "/api/v1/incidents/?detected_after=2026-13-45T99:99:99Z")
    for path in (
        "/api/v1/oncall/",
        f"/api/v1/schedules/{sched}/shifts/",
        f"/api/v1/schedules/{sched}/calendar.ics",
    ):
        for name in ("at", "schedule", "start", "end", "user"):
            for cls, value in URL_VALUES:
                probe.get(cls, "api:query", f"{path}?{name}={value}")


def api_paths(probe: Probe, world: dict) -> None:
    sched = world["schedule"].pk
    paths = [
        "/api/v1/incidents/{}/",
        "/api/v1/incidents/{}/timeline/",
        "/api/v1/incidents/{}/alerts/",
        "/api/v1/schedules/{}/",
        "/api/v1/schedules/{}/shifts/",
        "/api/v1/schedules/{}/overrides/",
        "/api/v1/schedules/{}/calendar.ics",
        "/api/v1/channels/{}/",
        "/api/v1/integrations/{}/",
        "/api/v1/severities/{}/",
        f"/api/v1/schedules/{sched}/overrides/{{}}/",
    ]
    segments = [
        ("bigint", BIG_ID),
        ("bigint", BIG_DIGITS),
        ("bigint", "-1"),
        ("nul", "%00"),
        ("nul", "a%00b"),
        ("percent", "%ff"),
        ("percent", "%"),
        ("surrogate", SURROGATE_URL),
        ("long", LONG),
        ("nan", "NaN"),
    ]
    for template in paths:
        for cls, segment in segments:
            path = template.format(segment)
            methods = ["GET"]
            if "overrides/{" in template or template.endswith("overrides/{}/"):
                methods = ["DELETE"]
            elif template.count("{}") and not template.endswith(
                ("shifts/", "calendar.ics", "timeline/", "alerts/")
            ):
                methods = ["GET", "PATCH", "DELETE"]
            for method in methods:
                probe.send(
                    cls, "api:path", method, path, data=b"{}", content_type="application/json"
                )
    for cls, segment in (("bigint", BIG_ID), ("nul", "%00"), ("percent", "%ff")):
        for action in ("acknowledge", "escalate", "resolve"):
            probe.json(cls, "api:path", "POST", f"/api/v1/incidents/{segment}/{action}/", b"{}")
        probe.json(cls, "api:path", "POST", f"/api/v1/channels/{segment}/test/", b"{}")
        probe.json(cls, "api:path", "POST", f"/api/v1/integrations/{segment}/rotate-token/", b"{}")


def dashboard_forms(probe: Probe, world: dict) -> None:
    ref = world["incident"].ref
    sched = world["schedule"].pk
    forms = [
        (
            "/incidents/new/",
            "title=t&severity=P2&source=team_member",
            ["title", "summary", "impact", "services", "severity"],
        ),
        (
            f"/incidents/{ref}/update/",
            "message=m&status=investigating&visibility=internal",
            ["message", "status"],
        ),
        (f"/incidents/{ref}/status/", "status=identified", ["status", "note"]),
        (f"/incidents/{ref}/severity/", "severity=P1", ["severity", "reason"]),
        (f"/incidents/{ref}/escalate/", "path=technical&reason=r", ["reason", "path"]),
        (f"/incidents/{ref}/mitigate/", "note=n", ["note"]),
        (f"/incidents/{ref}/resolve/", "root_cause=r", ["root_cause", "resolution"]),
        (f"/incidents/{ref}/reopen/", "reason=r", ["reason"]),
        (
            f"/incidents/{ref}/assign-role/",
            f"role=responder&user={world['bob'].pk}",
            ["role", "user"],
        ),
        (
            f"/incidents/{ref}/relieve-role/",
            f"role=responder&user={world['bob'].pk}",
            ["role", "user"],
        ),
        (
            f"/oncall/schedules/{sched}/overrides/",
            f"s{sched}-user={world['bob'].pk}&s{sched}-starts_at=2026-12-24T09:00&s{sched}-ends_at=2026-12-25T09:00",
            [f"s{sched}-reason", f"s{sched}-user", f"s{sched}-starts_at"],
        ),
        ("/me/contact-methods/", "kind=email&value=a%40b.test", ["value", "kind"]),
    ]
    for path, base, fields in forms:
        for name in fields:
            for cls, value in URL_VALUES:
                probe.form(cls, "dashboard:form", path, f"{base}&{name}={value}")
        probe.form("malformed", "dashboard:form", path, "a" * (1024 * 1024 + 10))
        probe.form(
            "malformed", "dashboard:form", path, f"{base}&summary=" + "y" * (1024 * 1024 + 10)
        )
        probe.form("malformed", "dashboard:form", path, base + "&k=v" * 1500)
        probe.send(
            "malformed",
            "dashboard:form",
            "POST",
            path,
            data=b"--x\r\nbroken",
            content_type="multipart/form-data; boundary=x",
        )
        probe.send(
            "malformed",
            "dashboard:form",
            "POST",
            path,
            data=b"x",
            content_type="multipart/form-data",
        )
    for date in FAR_DATES:
        wall = date[:16] if not date.startswith("2757") else "275760-01-01T00:00"
        body = f"s{sched}-user={world['bob'].pk}&s{sched}-starts_at={wall}&s{sched}-ends_at={wall}"
        probe.form("date", "dashboard:form", f"/oncall/schedules/{sched}/overrides/", body)
    probe.form(
        "date",
        "dashboard:form",
        f"/oncall/schedules/{sched}/overrides/",
        f"s{sched}-user={world['bob'].pk}&s{sched}-starts_at=9999-12-31T20:00&s{sched}-ends_at=9999-12-31T23:59",
    )
    for cls, segment in (
        ("bigint", BIG_ID),
        ("nul", "%00"),
        ("percent", "%ff"),
        ("surrogate", SURROGATE_URL),
    ):
        probe.form(cls, "dashboard:form", f"/oncall/schedules/{segment}/overrides/", "")
        probe.form(cls, "dashboard:form", f"/oncall/overrides/{segment}/remove/", "")
        probe.form(cls, "dashboard:form", f"/me/contact-methods/{segment}/remove/", "")
        probe.form(cls, "dashboard:form", f"/incidents/{segment}/acknowledge/", "")


def dashboard_filters(probe: Probe, world: dict) -> None:
    ref = world["incident"].ref
    for name in ("severity", "status", "service", "q", "since"):
        for cls, value in URL_VALUES:
            probe.get(cls, "dashboard:filter", f"/?{name}={value}")
            probe.send(cls, "dashboard:filter", "GET", f"/?{name}={value}", HTTP_HX_REQUEST="true")
    for cls, value in (
        ("nul", "%00"),
        ("bigint", BIG_DIGITS),
        ("percent", "%ff"),
        ("surrogate", SURROGATE_URL),
    ):
        probe.send(
            cls,
            "dashboard:filter",
            "GET",
            f"/incidents/{ref}/?live={value}",
            HTTP_HX_REQUEST="true",
        )
    for cls, segment in (
        ("nul", "%00"),
        ("percent", "%ff"),
        ("surrogate", SURROGATE_URL),
        ("long", LONG),
        ("bigint", BIG_ID),
    ):
        probe.get(cls, "dashboard:filter", f"/incidents/{segment}/")
    for path in ("/oncall/", "/me/"):
        for cls, value in (("nul", "%00"), ("percent", "%ff"), ("long", LONG)):
            probe.get(cls, "dashboard:filter", f"{path}?x={value}")


def calendar_feed(probe: Probe, world: dict) -> None:
    token = world["schedule"].feed_token
    for cls, value in URL_VALUES:
        probe.get(cls, "feed", f"/oncall/{token}/calendar.ics?user={value}")
        probe.get(cls, "feed", f"/oncall/{value}/calendar.ics")


def ack_link(probe: Probe, world: dict) -> None:
    good = world["ack"]
    for cls, value in URL_VALUES:
        probe.get(cls, "ack", f"/ack/{value}/")
        probe.form(cls, "ack", f"/ack/{value}/", "")
        probe.form(cls, "ack", f"/ack/{good}/", f"x={value}")
    from django.core import signing

    from incidents.ack_links import SALT

    for cls, data in (
        ("bigint", {"i": int("9" * 30), "u": 1}),
        ("nonobject", [1, 2]),
        ("nonobject", "x"),
        ("nul", {"i": "\x00", "u": "\x00"}),
        ("nan", {"i": float("nan"), "u": 1}),
    ):
        forged = signing.dumps(data, salt=SALT)  # signed with the real key: the worst case
        probe.get(cls, "ack", f"/ack/{forged}/")
    probe.form("malformed", "ack", f"/ack/{good}/", "a" * (1024 * 1024 + 10))


ENTRY_POINTS = [
    stored_times,
    ingestion,
    enqueue,
    api_bodies,
    api_queries,
    api_paths,
    dashboard_forms,
    dashboard_filters,
    calendar_feed,
    ack_link,
]
