from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        """Plug into the registries ``incidents`` owns (it never imports us)."""
        from incidents import publication
        from incidents.notify.transports import register

        from . import delivery
        from .engine import register as register_engine
        from .services import StatusPagePublisher
        from .services.subscribers import EMAIL_KIND, WEBHOOK_KIND

        publication.register(StatusPagePublisher())
        register_engine()
        register(EMAIL_KIND, delivery.send_email)
        register(WEBHOOK_KIND, delivery.send_webhook)
