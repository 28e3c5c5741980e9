"""Status-page subscribers in the admin: managers list them, add them and
change their choice through the services (statuspage/services/subscribers.py),
and read each one's delivery log.

The forms check the input's shape only; ``clean()`` calls the service, whose
``DomainError`` is shown beside the field it names (the admin's transaction
rolls the attempt back), and ``save_model`` takes the row the service stored.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from incidents.access import can_manage
from incidents.errors import DomainError

from ..models import Component, ComponentGroup, Subscriber, SubscriberDelivery
from ..services.subscribers import subscriber_add, subscriber_delete, subscriber_update


class _ServiceForm(forms.ModelForm):
    """A form whose row a service stores: ``store()`` calls it; the model's
    own validation (uniqueness included) is the service's to do."""

    actor = None  # set per request by ``SubscriberAdmin.get_form``

    # Text, not URL/email fields: what is a usable address is the service's rule.
    address = forms.CharField(required=False, max_length=254)
    endpoint = forms.CharField(required=False, max_length=1000)

    components = forms.ModelMultipleChoiceField(
        queryset=Component.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked and no group: every component.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=ComponentGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every component of the group, including those added later.",
    )

    def _post_clean(self) -> None:
        return None

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.stored = self.store(data)
            except DomainError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data

    def store(self, data) -> Subscriber:
        raise NotImplementedError


class SubscriberAddForm(_ServiceForm):
    class Meta:
        model = Subscriber
        fields = ("kind", "address", "endpoint", "components", "groups")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].help_text = (
            "Email subscribers: confirmed at once (you vouch for the address); "
            "every mail carries a one-click unsubscribe link."
        )
        self.fields["endpoint"].help_text = (
            "Webhook subscribers: an https:// URL on a public address. The "
            "signing secret is shown once, on the page after saving."
        )

    def store(self, data) -> Subscriber:
        return subscriber_add(
            actor=self.actor,
            kind=data.get("kind") or "",
            address=data.get("address") or "",
            endpoint=data.get("endpoint") or "",
            components=list(data.get("components") or []),
            groups=list(data.get("groups") or []),
        )


class SubscriberChangeForm(_ServiceForm):
    class Meta:
        model = Subscriber
        fields = ("endpoint", "components", "groups")

    def store(self, data) -> Subscriber:
        changes = {
            "components": list(data.get("components") or []),
            "groups": list(data.get("groups") or []),
        }
        if self.instance.kind == "webhook":
            changes["endpoint"] = data.get("endpoint") or ""
        return subscriber_update(actor=self.actor, subscriber=self.instance, **changes)


class DeliveryInline(admin.TabularInline):
    """The delivery log (read-only): each message and its outbox row's state."""

    model = SubscriberDelivery
    extra = 0
    can_delete = False
    fields = ("event", "state", "attempts", "last_error", "created_at", "delivered_at")
    readonly_fields = fields
    ordering = ("-id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("notification")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    @admin.display(description="status")
    def state(self, obj) -> str:
        return obj.notification.get_status_display()

    @admin.display(description="attempts")
    def attempts(self, obj) -> int:
        return obj.notification.attempts

    @admin.display(description="last error")
    def last_error(self, obj) -> str:
        return obj.notification.last_error[:200]

    @admin.display(description="created")
    def created_at(self, obj):
        return obj.notification.created_at

    @admin.display(description="delivered")
    def delivered_at(self, obj):
        return obj.notification.delivered_at


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("destination", "kind", "confirmed_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("address", "endpoint", "code")
    readonly_fields = ("code", "kind", "address", "confirmed_at", "created_at")
    inlines = [DeliveryInline]

    def get_fields(self, request, obj=None):
        if obj is None:
            return SubscriberAddForm.Meta.fields
        fields = ["code", "kind", "address", "confirmed_at", "created_at", "components", "groups"]
        if obj.kind == "webhook":
            fields.insert(3, "endpoint")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = SubscriberAddForm if obj is None else SubscriberChangeForm
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change: bool) -> None:
        stored = form.stored
        obj.pk = stored.pk
        obj.refresh_from_db()
        obj._state.adding = False
        if not change and stored.kind == "webhook":
            messages.warning(
                request,
                f"Signing secret of this webhook (shown once; give it to the receiver): "
                f"{stored.secret}",
            )

    def save_related(self, request, form, formsets, change: bool) -> None:
        return None  # the service stored the choice; the log is read-only

    def delete_model(self, request, obj) -> None:
        subscriber_delete(actor=request.user, subscriber=obj)

    def delete_queryset(self, request, queryset) -> None:
        for subscriber in queryset:
            subscriber_delete(actor=request.user, subscriber=subscriber)

    def has_module_permission(self, request) -> bool:
        return can_manage(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_add_permission(self, request) -> bool:
        return can_manage(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return can_manage(request.user)
