"""The post-mortem pages of the dashboard."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from . import access
from .models import Postmortem


@login_required
def detail(request, pk: int):
    if not access.can_view(request.user):
        raise PermissionDenied
    postmortem = get_object_or_404(Postmortem.objects.select_related("incident", "owner"), pk=pk)
    return render(request, "postmortems/detail.html", {"postmortem": postmortem})
