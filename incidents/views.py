from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from . import selectors


@login_required
def board(request):
    return HttpResponse(", ".join(i.ref for i in selectors.open_incidents()))


@login_required
def detail(request, ref):
    return HttpResponse(selectors.incident_by_ref(ref).title)
