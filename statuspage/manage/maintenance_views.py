"""Scheduled maintenance in the dashboard (/status-page/maintenance/):
the list, the "schedule maintenance" form, and one maintenance's page with
its updates, where responders post the next one. Each calls one service;
a refusal shows beside the field it names."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents import clock
from incidents.errors import DomainError

from .. import access, services
from ..models import Component, Maintenance, MaintenanceStatus, PublicUpdate
from ..services.maintenance import NEXT

RECENT = 20
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _guard(check: Callable) -> Callable:
    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


view_required = _guard(access.can_view)
respond_required = _guard(access.can_respond)


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=200)
    scheduled_for = forms.DateTimeField(label="Starts", widget=WHEN)
    scheduled_until = forms.DateTimeField(label="Ends", widget=WHEN)
    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Set under maintenance while it runs.",
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Message to the public",
        help_text="The first update on the status page and to subscribers.",
    )
    auto_transition = forms.BooleanField(
        required=False, initial=True, label="Start and complete it automatically at its times"
    )
    counts_as_downtime = forms.BooleanField(required=False, label="Counts as downtime")


class PostUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=MaintenanceStatus.choices)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Message"
    )

    def __init__(self, *args, maintenance: Maintenance, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = NEXT[MaintenanceStatus(maintenance.status)]
        self.fields["status"].choices = [(s.value, s.label) for s in allowed]
        following = [s for s in allowed if s != maintenance.status]
        self.fields["status"].initial = (following or list(allowed) or [""])[0]


def _attach(form: forms.Form, error: DomainError) -> int:
    form.add_error(error.field if error.field in form.fields else None, error.message)
    return 409 if error.conflict else 400


def _with_updates():
    return Maintenance.objects.prefetch_related(
        "components",
        Prefetch("updates", queryset=PublicUpdate.objects.order_by("-display_at", "-id")),
    )


@require_http_methods(["GET"])
@view_required
def maintenances(request: HttpRequest) -> HttpResponse:
    rows = _with_updates()
    context = {
        "open": rows.exclude(status=MaintenanceStatus.COMPLETED).order_by("scheduled_for", "id"),
        "done": rows.filter(status=MaintenanceStatus.COMPLETED).order_by("-scheduled_for", "-id")[
            :RECENT
        ],
        "now": clock.now(),
    }
    return render(request, "statuspage/manage/maintenances.html", context)


@require_http_methods(["GET", "POST"])
@respond_required
def maintenance_new(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                maintenance = services.maintenance_schedule(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                status = _attach(form, error)
            else:
                messages.success(request, f"“{maintenance.name}” is scheduled and announced.")
                return redirect("statuspage-manage:maintenance", code=maintenance.code)
    return render(request, "statuspage/manage/maintenance_new.html", {"form": form}, status=status)


def _page(request, maintenance: Maintenance, form: PostUpdateForm | None, status: int = 200):
    context = {"maintenance": maintenance, "form": form}
    return render(request, "statuspage/manage/maintenance_detail.html", context, status=status)


@require_http_methods(["GET"])
@view_required
def maintenance(request: HttpRequest, code: str) -> HttpResponse:
    found = get_object_or_404(_with_updates(), code=code)
    form = None
    if access.can_respond(request.user) and found.status != MaintenanceStatus.COMPLETED:
        form = PostUpdateForm(maintenance=found)
    return _page(request, found, form)


@require_POST
@respond_required
def maintenance_post_update(request: HttpRequest, code: str) -> HttpResponse:
    found = get_object_or_404(_with_updates(), code=code)
    form = PostUpdateForm(request.POST, maintenance=found)
    status = 400
    if form.is_valid():
        try:
            services.maintenance_post_update(
                actor=request.user, maintenance=found, **form.cleaned_data
            )
        except DomainError as error:
            status = _attach(form, error)
        else:
            messages.success(request, "Update posted.")
            return redirect("statuspage-manage:maintenance", code=code)
    return _page(request, found, form, status)


@require_POST
@respond_required
def maintenance_delete(request: HttpRequest, code: str) -> HttpResponse:
    found = get_object_or_404(Maintenance, code=code)
    try:
        services.maintenance_delete(actor=request.user, maintenance=found)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("statuspage-manage:maintenance", code=code)
    messages.success(request, f"“{found.name}” was taken off the status page.")
    return redirect("statuspage-manage:maintenances")
