from django.urls import path

from . import ack, feeds, marks, oncall, profile, views

app_name = "incidents"

# POST-only actions on one incident: path segment and URL name -> view.
INCIDENT_ACTIONS = {
    "acknowledge": views.acknowledge,
    "assign-role": views.assign_role,
    "relieve-role": views.relieve_role,
    "update": views.post_update,
    "status": views.change_status,
    "severity": views.change_severity,
    "escalate": views.escalate,
    "mitigate": views.mitigate,
    "resolve": views.resolve,
    "reopen": views.reopen,
}
# POST-only actions on one of my contact methods: path segment -> view (named "contact-<segment>").
CONTACT_ACTIONS = {
    "enabled": profile.contact_enabled,
    "remove": profile.contact_remove,
    "test": profile.contact_test,
}

urlpatterns = [
    path("", views.board, name="board"),
    path("incidents/new/", views.declare, name="declare"),
    path("incidents/<str:ref>/", views.detail, name="detail"),
    *(
        path(f"incidents/<str:ref>/{name}/", view, name=name)
        for name, view in INCIDENT_ACTIONS.items()
    ),
    # A key moment of one event (incidents/dashboard/marks.py).
    path("incidents/<str:ref>/timeline/<int:event_id>/mark/", marks.mark, name="mark"),
    path("oncall/", oncall.oncall_page, name="oncall"),
    path(
        "oncall/schedules/<int:schedule_id>/overrides/",
        oncall.override_add,
        name="override-add",
    ),
    path(
        "oncall/overrides/<int:override_id>/remove/",
        oncall.override_remove,
        name="override-remove",
    ),
    path("me/", profile.me, name="me"),
    path("me/contact-methods/", profile.contact_add, name="contact-add"),
    *(
        path(f"me/contact-methods/<int:method_id>/{name}/", view, name=f"contact-{name}")
        for name, view in CONTACT_ACTIONS.items()
    ),
    # Public by signed link: the "Acknowledge" button of a paging email.
    path("ack/<str:token>/", ack.ack_link, name="ack-link"),
    # Public by secret token: calendar apps cannot sign in (incidents/feeds.py).
    path("oncall/<str:feed_token>/calendar.ics", feeds.oncall_calendar, name="oncall-calendar"),
]
