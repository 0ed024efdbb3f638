from django.urls import path

from hms.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invoices/", views.invoice_list, name="invoice-list"),
    path("invoices/<uuid:pk>/", views.invoice_detail, name="invoice"),
    path("invoices/<uuid:pk>/pdf/", views.invoice_pdf, name="invoice-pdf"),
    path("invoices/<uuid:pk>/issue/", views.invoice_issue, name="invoice-issue"),
    path("invoices/<uuid:pk>/void/", views.invoice_void, name="invoice-void"),
    path("invoices/<uuid:pk>/credit-note/", views.credit_note_add, name="credit-note-add"),
    path("invoices/<uuid:pk>/payment/", views.payment_add, name="payment-add"),
    path("payments/<uuid:pk>/refund/", views.payment_refund, name="payment-refund"),
    path("payments/<uuid:pk>/receipt/", views.receipt_pdf, name="receipt-pdf"),
    path("prices/", views.price_list, name="price-list"),
    path("prices/new/", views.price_add, name="price-add"),
    path("prices/<int:pk>/change/", views.price_change, name="price-change"),
    path("patients/<uuid:patient_id>/", views.account, name="account"),
    path("patients/<uuid:patient_id>/charges/new/", views.charge_add, name="charge-add"),
    path("patients/<uuid:patient_id>/coverage/new/", views.coverage_add, name="coverage-add"),
    path("charges/<uuid:pk>/void/", views.charge_void, name="charge-void"),
    path("claims/", views.claims, name="claims"),
    path("claims/<uuid:pk>/submit/", views.claim_submit, name="claim-submit"),
    path("claims/<uuid:pk>/decide/", views.claim_decide, name="claim-decide"),
    path("claims/<uuid:pk>/pay/", views.claim_pay, name="claim-pay"),
    path("payers/new/", views.payer_add, name="payer-add"),
    path("reports/<slug:key>/", views.report, name="report"),
    path("my/invoices/", views.portal_invoices, name="portal-invoices"),
    path("my/invoices/<uuid:pk>/", views.portal_invoice, name="portal-invoice"),
    path("my/invoices/<uuid:pk>/pdf/", views.portal_invoice_pdf, name="portal-invoice-pdf"),
    path("my/receipts/<uuid:pk>/", views.portal_receipt_pdf, name="portal-receipt-pdf"),
]
