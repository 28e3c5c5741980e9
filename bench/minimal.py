"""The baseline of bench/statuspage.py: the smallest Django project there
is (no middleware, no database, no apps), whose one view answers a constant
string for any path. Served by gunicorn as
``django.core.wsgi:get_wsgi_application()`` with this module as settings."""

from django.http import HttpResponse
from django.urls import re_path

SECRET_KEY = "bench-minimal-project-constant-view-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
MIDDLEWARE: list[str] = []
INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

BODY = b"All Systems Operational\n"


def constant(request):
    return HttpResponse(BODY, content_type="text/plain")


urlpatterns = [re_path(r"", constant)]
