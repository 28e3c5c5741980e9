from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from .guide import ensure_guide_defaults

        # post_migrate (not a data migration) so the guide's policy and the
        # permission groups also come back after a test database flush.
        post_migrate.connect(ensure_guide_defaults, sender=self)
