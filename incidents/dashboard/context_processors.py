from ..access import can_manage, can_respond


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {"can_respond": can_respond(user), "can_manage": can_manage(user)}
