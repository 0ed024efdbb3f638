from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hms.core import views as core_views
from hms.core.access import public

api_v1 = [
    path("", include("hms.accounts.api_urls")),
    path("", include("hms.patients.api_urls")),
    path("", include("hms.clinical.api_urls")),
    path("", include("hms.scheduling.api_urls")),
    path("", include("hms.feedback.api_urls")),
    path("", include("hms.billing.api_urls")),
    path("inventory/", include("hms.inventory.api_urls")),
    path("", include("hms.workflows.api_urls")),
    path("", include("hms.assistant.api_urls")),
]

urlpatterns = [
    path("", include("hms.core.urls")),
    path("accounts/", include("hms.accounts.urls")),
    path("patients/", include("hms.patients.urls")),
    path("clinical/", include("hms.clinical.urls")),
    path("scheduling/", include("hms.scheduling.urls")),
    path("", include("hms.feedback.urls")),
    path("billing/", include("hms.billing.urls")),
    path("inventory/", include("hms.inventory.urls")),
    path("workflows/", include("hms.workflows.urls")),
    path("assistant/", include("hms.assistant.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("fhir/R4/", include("hms.fhir.urls")),
    path("api/schema/", public(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        public(
            SpectacularSwaggerSplitView.as_view(
                url_name="api-schema", template_name="core/swagger_ui.html"
            )
        ),
        name="api-docs",
    ),
    # Anything else under /api/ answers with the JSON error shape, in DEBUG too.
    re_path(r"^api/", core_views.api_not_found, name="api-not-found"),
]

handler400 = "hms.core.errors_views.bad_request"
handler403 = "hms.core.errors_views.permission_denied"
handler404 = "hms.core.errors_views.page_not_found"
handler500 = "hms.core.errors_views.server_error"
