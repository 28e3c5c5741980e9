"""The root URLconf of the status host (``STATUS_PAGE_HOST``, treebeard_ir/hosts.py).

It only includes ``statuspage.urls``, so the routes keep their namespace
there as on the main host (where they live under /status/):
``{% url 'statuspage:history' %}`` is ``/history`` on the status host and
``/status/history`` on the main one, from the same template.
"""

from django.urls import include, path

urlpatterns = [path("", include("statuspage.urls"))]

handler404 = "statuspage.views.not_found"
