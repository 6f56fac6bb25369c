from .roles import Cap, capabilities


def navigation(request):
    """Capabilities for the templates, so the navigation shows only what the user may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"caps": frozenset()}
    return {"caps": {cap.name: True for cap in capabilities(user)}, "Cap": Cap}
