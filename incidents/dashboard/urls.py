from django.urls import path

from . import ack, feeds, marks, oncall, profile, views

app_name = "incidents"

urlpatterns = [
    path("", views.board, name="board"),
    path("incidents/new/", views.declare, name="declare"),
    path("incidents/<str:ref>/", views.detail, name="detail"),
    # POST-only actions on one incident.
    path("incidents/<str:ref>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("incidents/<str:ref>/assign-role/", views.assign_role, name="assign-role"),
    path("incidents/<str:ref>/relieve-role/", views.relieve_role, name="relieve-role"),
    path("incidents/<str:ref>/update/", views.post_update, name="update"),
    path("incidents/<str:ref>/status/", views.change_status, name="status"),
    path("incidents/<str:ref>/severity/", views.change_severity, name="severity"),
    path("incidents/<str:ref>/escalate/", views.escalate, name="escalate"),
    path("incidents/<str:ref>/mitigate/", views.mitigate, name="mitigate"),
    path("incidents/<str:ref>/resolve/", views.resolve, name="resolve"),
    path("incidents/<str:ref>/reopen/", views.reopen, name="reopen"),
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
    path(
        "me/contact-methods/<int:method_id>/enabled/",
        profile.contact_enabled,
        name="contact-enabled",
    ),
    path(
        "me/contact-methods/<int:method_id>/remove/",
        profile.contact_remove,
        name="contact-remove",
    ),
    path(
        "me/contact-methods/<int:method_id>/test/",
        profile.contact_test,
        name="contact-test",
    ),
    # Public by signed link: the "Acknowledge" button of a paging email.
    path("ack/<str:token>/", ack.ack_link, name="ack-link"),
    # Public by secret token: calendar apps cannot sign in (incidents/feeds.py).
    path("oncall/<str:feed_token>/calendar.ics", feeds.oncall_calendar, name="oncall-calendar"),
]
