"""Error pages: HTML for people, the JSON error shape for the API."""

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from hms.core.api import error_body


def _respond(request, status: int, code: str, message: str, template: str):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    return render(request, template, {"message": message}, status=status)


def bad_request(request, exception=None):
    return _respond(request, 400, "bad_request", "The request was not understood.", "400.html")


def permission_denied(request, exception=None):
    return _respond(
        request,
        403,
        "permission_denied",
        "Your role does not give access to this page.",
        "403.html",
    )


def page_not_found(request, exception=None):
    return _respond(request, 404, "not_found", "There is nothing at this address.", "404.html")


def server_error(request):
    message = "Something went wrong on our side; it was logged."
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", message), status=500)
    # Rendered without the request: the failure may be in what the context processors need.
    return HttpResponseServerError(loader.render_to_string("500.html", {"message": message}))
