"""The benchmark's reference: a signed-in page that does what any Django page must do (session,
user, the same middleware) plus one query and a small template, and nothing of its own."""

from django.http import HttpResponse
from django.template import engines

from hms.core.access import signed_in
from hms.core.models import Department

_PAGE = engines["django"].from_string(
    "<!doctype html><html lang=en><title>Bare page</title>"
    "<p>Hello {{ name }}: {{ departments }} departments.</p></html>"
)


@signed_in
def bare_page(request):
    departments = Department.objects.filter(is_active=True).count()
    return HttpResponse(_PAGE.render({"name": request.user.given_name, "departments": departments}))
