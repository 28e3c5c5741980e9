from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.board, name="board"),
    path("incidents/<str:ref>/", views.detail, name="detail"),
]
