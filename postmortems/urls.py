"""The post-mortem pages of the dashboard (/postmortems/)."""

from django.urls import path

from . import views

app_name = "postmortems"

urlpatterns = [
    path("<int:pk>/", views.detail, name="detail"),
]
