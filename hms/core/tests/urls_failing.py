"""A URLconf whose views fail, to show the custom error pages (used by test_shell.py)."""

from django.urls import include, path

from hms.core.access import public


@public
def fails(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("fails/", fails),
    path("api/v1/fails/", fails),
    path("", include("config.urls")),
]

handler400 = "hms.core.errors_views.bad_request"
handler403 = "hms.core.errors_views.permission_denied"
handler404 = "hms.core.errors_views.page_not_found"
handler500 = "hms.core.errors_views.server_error"
