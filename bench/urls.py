"""The product's URLs plus /bench/insert: the cheapest useful Django POST
(parse JSON, insert one row), measured in the same run as the baseline."""

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def insert_one(request):
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_row (body) VALUES (%s)", [json.dumps(body)])
    return JsonResponse({"status": "ok"}, status=202)


urlpatterns = [
    path("bench/insert", insert_one),
    path("", include("treebeard_ir.urls")),
]
