"""The application's URLs plus /bench/bare/, served only by the benchmark's server."""

from django.urls import path

from bench.bare import bare_page
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as application_urls

urlpatterns = [path("bench/bare/", bare_page), *application_urls]
