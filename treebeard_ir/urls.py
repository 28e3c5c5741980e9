from django.contrib import admin
from django.urls import include, path

from . import health

admin.site.site_header = "TreeBeard IR administration"
admin.site.site_title = "TreeBeard IR"
admin.site.index_title = "Policies, people and incidents"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("incidents.urls")),
]
