from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    verbose_name = "Status page"

    def ready(self) -> None:
        """Plug into the registries ``incidents`` owns (it never imports us)."""
        from incidents import publication

        from .engine import register as register_engine
        from .services import StatusPagePublisher

        publication.register(StatusPagePublisher())
        register_engine()
