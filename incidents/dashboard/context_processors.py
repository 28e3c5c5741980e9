from ..access import can_manage, can_respond
from ..models import MomentKind


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "can_respond": can_respond(user),
        "can_manage": can_manage(user),
        # The key moments a responder marks an event as (incidents/_event.html).
        "moment_kinds": MomentKind.choices,
    }
