"""The post-mortem pages of the dashboard (/postmortems/)."""

from django.urls import path

from .dashboard import actions, exports, listing, views, workflow

app_name = "postmortems"

urlpatterns = [
    path("", listing.postmortem_list, name="list"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/markdown", exports.markdown, name="markdown"),
    path("<int:pk>/print", exports.printable, name="print"),
    path("<int:pk>/sections/<str:key>/", views.section, name="section"),
    path("<int:pk>/sections/<str:key>/edit/", views.section_edit, name="section-edit"),
    # POST-only: changes, each through one service.
    path("<int:pk>/sections/<str:key>/save/", views.section_save, name="section-save"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/timeline/", views.timeline_add, name="timeline-add"),
    path("<int:pk>/timeline/import/", views.timeline_import, name="timeline-import"),
    path("<int:pk>/timeline/<int:entry_id>/delete/", views.timeline_delete, name="timeline-delete"),
    path("<int:pk>/actions/", actions.action_add, name="action-add"),
    path("<int:pk>/actions/<int:item_id>/", actions.action_update, name="action-update"),
    path("<int:pk>/actions/<int:item_id>/delete/", actions.action_delete, name="action-delete"),
    path("<int:pk>/actions/<int:item_id>/ticket/", actions.action_ticket, name="action-ticket"),
    path("<int:pk>/submit/", workflow.submit, name="submit"),
    path("<int:pk>/sign-off/", workflow.sign_off, name="sign-off"),
    path("<int:pk>/publish/", workflow.publish, name="publish"),
    path("<int:pk>/reopen/", workflow.reopen, name="reopen"),
    path("<int:pk>/meeting/", workflow.meeting, name="meeting"),
    path("<int:pk>/reviewers/", workflow.reviewers, name="reviewers"),
    path("<int:pk>/feedback/", workflow.feedback, name="feedback"),
    path("request/<str:ref>/", workflow.request_postmortem, name="request"),
]
