from django.urls import path
from rest_framework.routers import SimpleRouter

from hms.billing import api

router = SimpleRouter()
router.register("invoices", api.InvoiceViewSet, basename="api-invoices")
router.register("payments", api.PaymentViewSet, basename="api-payments")
router.register("charges", api.ChargeViewSet, basename="api-charges")
router.register("claims", api.ClaimViewSet, basename="api-claims")

urlpatterns = [
    path(
        "patients/<str:patient_id>/balance/",
        api.PatientBalanceView.as_view(),
        name="api-patient-balance",
    ),
    *router.urls,
]
