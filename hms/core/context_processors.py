from django.conf import settings

from hms.core.navigation import navbar_for


def shell(request):
    """What every page's layout needs: the hospital's name and the user's navigation bar."""
    user = getattr(request, "user", None)
    return {
        "hospital_name": settings.HOSPITAL_NAME,
        "navbar": navbar_for(user) if user is not None and user.is_authenticated else [],
    }
