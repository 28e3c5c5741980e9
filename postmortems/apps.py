from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    verbose_name = "Post-mortems"

    def ready(self) -> None:
        """Plug into the registries ``incidents`` owns (it never imports us)."""
        from incidents import lifecycle
        from incidents.engine import sla
        from incidents.models import DeadlineKind
        from incidents.notify import transports

        from . import engine, links, notices, tickets
        from .services.actions import REMINDER as ITEM_REMINDER
        from .services.creation import REMINDER, on_incident_resolved

        lifecycle.on_resolved(on_incident_resolved)
        lifecycle.register_link(links.incident_links)
        sla.register(DeadlineKind.POSTMORTEM, engine.fire_breach)
        sla.register(REMINDER, engine.fire_reminder, label="Post-mortem reminder")
        transports.register(notices.NOTICE, notices.send_notice)
        sla.register(DeadlineKind.ACTION_ITEM, engine.fire_item_overdue)
        sla.register(ITEM_REMINDER, engine.fire_item_reminder, label="Action item reminder")
        transports.register(tickets.TICKET, tickets.send_ticket)
