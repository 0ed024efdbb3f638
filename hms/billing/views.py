"""Billing pages: the billing office's (BILLING_VIEW to read, BILLING_WRITE to act) and the
portal's (a patient's own invoices and receipts). Thin: every write is a service, every read
of a patient's bill goes through an audited selector."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from hms.billing import forms, pdf, reports, selectors, services
from hms.billing.models import (
    OPEN_STATUSES,
    Charge,
    Claim,
    ClaimStatus,
    Invoice,
    InvoiceStatus,
    Payer,
    Payment,
    PriceItem,
)
from hms.core.access import require_perm
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import DomainError, NotFound
from hms.core.forms import form_add_domain_error
from hms.core.permissions import Perm
from hms.core.spreadsheets import csv_download
from hms.patients.selectors import patient_get_for_user

# --- Helpers ------------------------------------------------------------------------------------


def _invoice(request, pk, action: str = "billing.invoice_view") -> Invoice:
    try:
        return selectors.invoice_get_for_user(user=request.user, invoice_id=pk, action=action)
    except NotFound:
        raise Http404 from None


def _payment(request, pk, action: str = "billing.receipt_view") -> Payment:
    try:
        return selectors.payment_get_for_user(user=request.user, payment_id=pk, action=action)
    except NotFound:
        raise Http404 from None


def _form_page(request, form, *, title: str, submit: str, back: str, invoice=None, intro=""):
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": title, "submit": submit, "back": back,
               "invoice": invoice, "intro": intro}  # fmt: skip
    return render(request, "billing/form.html", context, status=status)


def _write(request, form, service, *, done: str, **kwargs):
    """Call `service` with the form's data; a refusal shows on the form. True when done."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        service(actor=request.user, **kwargs, **form.cleaned_data)
    except DomainError as exc:
        form_add_domain_error(form, exc)
        return False
    messages.success(request, done)
    return True


# --- Dashboard and lists ------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def dashboard(request):
    """The billing office's day: what is owed and how old, today's takings, drafts waiting."""
    today = timezone.localdate()
    aging = reports.aging(today)
    start, end = reports.day_range(today, today)
    takings = Payment.objects.filter(received_at__gte=start, received_at__lt=end).exclude(
        method="credit"
    )
    summary = takings.aggregate(
        taken=Sum("amount", filter=Q(kind="payment")),
        refunded=Sum("amount", filter=Q(kind="refund")),
    )
    drafts = Invoice.objects.filter(status=InvoiceStatus.DRAFT).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    recent = list(
        Invoice.objects.exclude(status=InvoiceStatus.DRAFT)
        .select_related("patient")
        .order_by("-issued_at")[:10]
    )
    audit_record_patients(
        action="billing.dashboard_view", actor=request.user, patients=[i.patient_id for i in recent]
    )
    context = {
        "aging": aging,
        "bars": reports.chart_bars(aging),
        "receivable": sum((row["amount"] for row in aging), start=0),
        "summary": summary,
        "drafts": drafts,
        "recent": recent,
        "claims_waiting": Claim.objects.filter(
            status__in=[ClaimStatus.DRAFT, ClaimStatus.SUBMITTED]
        ).count(),
    }
    return render(request, "billing/dashboard.html", context)


@require_perm(Perm.BILLING_VIEW)
def invoice_list(request):
    status = request.GET.get("status", "")
    invoices = Invoice.objects.select_related("patient").order_by("-created_at")
    if status in InvoiceStatus.values:
        invoices = invoices.filter(status=status)
    elif status == "open":
        invoices = invoices.filter(status__in=OPEN_STATUSES)
    page = Paginator(invoices, 25).get_page(request.GET.get("page"))
    audit_record_patients(
        action="billing.invoice_list", actor=request.user, patients=[i.patient_id for i in page]
    )
    return render(
        request, "billing/invoice_list.html",
        {"page": page, "status": status, "statuses": InvoiceStatus.choices,
         "query": f"status={status}" if status else ""},
    )  # fmt: skip


@require_perm(Perm.BILLING_VIEW)
def price_list(request):
    show_all = request.GET.get("all") == "1"
    items = PriceItem.objects.select_related("service__department")
    if not show_all:
        today = timezone.localdate()
        items = items.filter(valid_from__lte=today).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=today)
        )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request, "billing/price_list.html",
        {"page": page, "show_all": show_all, "query": "all=1" if show_all else ""},
    )  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def price_add(request):
    form = forms.PriceItemForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if _write(request, form, services.price_item_create, done="Price added."):
        return redirect("billing:price-list")
    return _form_page(request, form, title="Add to the price list", submit="Add",
                      back="billing:price-list")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def price_change(request, pk):
    item = get_object_or_404(PriceItem, pk=pk)
    form = forms.PriceChangeForm(
        request.POST or None,
        initial={"unit_price": item.unit_price, "valid_from": timezone.localdate()},
    )
    if _write(request, form, services.price_item_change_price, done="New price saved.",
              item=item):  # fmt: skip
        return redirect("billing:price-list")
    return _form_page(
        request, form, title=f"New price for {item.code} {item.name}", submit="Save",
        back="billing:price-list",
        intro=f"Current price {item.unit_price} from {item.valid_from:%d %b %Y}. Issued "
        "invoices keep the price they were issued with.",
    )  # fmt: skip


# --- A patient's account ------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def account(request, patient_id):
    try:
        data = selectors.patient_account(user=request.user, patient_id=patient_id)
    except NotFound:
        raise Http404 from None
    return render(request, "billing/account.html", {"account": data, "patient": data.patient})


def _patient_for_write(request, patient_id, action: str):
    try:
        return patient_get_for_user(user=request.user, patient_id=patient_id, action=action)
    except NotFound:
        raise Http404 from None


@require_perm(Perm.BILLING_WRITE)
def charge_add(request, patient_id):
    patient = _patient_for_write(request, patient_id, "billing.charge_form")
    form = forms.ChargeForm(request.POST or None)
    if _write(request, form, services.charge_add, done="Charge added to the draft invoice.",
              patient=patient):  # fmt: skip
        return redirect("billing:account", patient.pk)
    return _form_page(request, form, title=f"Add a charge for {patient.full_name}",
                      submit="Add charge", back="billing:dashboard")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def charge_void(request, pk):
    charge = get_object_or_404(Charge.objects.select_related("patient"), pk=pk)
    audit_record(action="billing.charge_view", actor=request.user, obj=charge,
                 patient=charge.patient_id)  # fmt: skip
    form = forms.ReasonForm(request.POST or None)
    if _write(request, form, services.charge_void, done="Charge voided.", charge=charge):
        return redirect("billing:account", charge.patient_id)
    return _form_page(request, form, title=f"Void the charge “{charge.description}”",
                      submit="Void charge", back="billing:dashboard")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def coverage_add(request, patient_id):
    patient = _patient_for_write(request, patient_id, "billing.coverage_form")
    form = forms.CoverageForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    if _write(request, form, services.coverage_add, done="Coverage recorded.", patient=patient):
        return redirect("billing:account", patient.pk)
    return _form_page(request, form, title=f"Insurance of {patient.full_name}",
                      submit="Save coverage", back="billing:dashboard")  # fmt: skip


# --- Invoices -----------------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def invoice_detail(request, pk):
    invoice = _invoice(request, pk)
    return render(request, "billing/invoice.html", {"view": selectors.invoice_view(invoice),
                                                    "portal": False})  # fmt: skip


def _invoice_pdf(invoice: Invoice):
    content = pdf.render_pdf("billing/pdf/invoice.html", {"view": selectors.invoice_view(invoice)})
    return pdf.pdf_response(content, f"{invoice.number or 'draft-invoice'}.pdf")


@require_perm(Perm.BILLING_VIEW)
def invoice_pdf(request, pk):
    return _invoice_pdf(_invoice(request, pk, "billing.invoice_pdf"))


@require_perm(Perm.BILLING_WRITE)
@require_POST
def invoice_issue(request, pk):
    invoice = _invoice(request, pk, "billing.invoice_issue_form")
    try:
        invoice = services.invoice_issue(actor=request.user, invoice=invoice)
        messages.success(request, f"Invoice {invoice.number} issued.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:invoice", pk)


@require_perm(Perm.BILLING_WRITE)
def invoice_void(request, pk):
    invoice = _invoice(request, pk, "billing.invoice_void_form")
    form = forms.ReasonForm(request.POST or None)
    if _write(request, form, services.invoice_void, done="Invoice voided.", invoice=invoice):
        return redirect("billing:invoice", pk)
    return _form_page(request, form, title=f"Void invoice {invoice.number or '(draft)'}",
                      submit="Void invoice", back="billing:invoice-list", invoice=invoice,
                      intro="Its charges are voided with it.")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def credit_note_add(request, pk):
    invoice = _invoice(request, pk, "billing.credit_note_form")
    form = forms.CreditNoteForm(request.POST or None)
    if _write(request, form, services.credit_note_create, done="Credit note created.",
              invoice=invoice):  # fmt: skip
        return redirect("billing:invoice", pk)
    return _form_page(request, form, title=f"Credit note for {invoice.number}",
                      submit="Create credit note", back="billing:invoice-list",
                      invoice=invoice)  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def payment_add(request, pk):
    invoice = _invoice(request, pk, "billing.payment_form")
    due = selectors.invoice_money(invoice).balance
    form = forms.PaymentForm(request.POST or None, initial={"amount": max(due, 0)})
    if _write(request, form, services.payment_take, done="Payment recorded.", invoice=invoice):
        return redirect("billing:invoice", pk)
    return _form_page(request, form, title=f"Take a payment for {invoice.number}",
                      submit="Record payment", back="billing:invoice-list", invoice=invoice,
                      intro="More than the balance is kept as the patient's credit.")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def payment_refund(request, pk):
    payment = _payment(request, pk, "billing.refund_form")
    form = forms.RefundForm(request.POST or None, initial={"method": payment.method})
    if _write(request, form, services.payment_refund, done="Refund recorded.", payment=payment):
        return redirect("billing:account", payment.patient_id)
    return _form_page(request, form, title=f"Refund of {payment.receipt_number}",
                      submit="Record refund", back="billing:dashboard")  # fmt: skip


def _receipt_pdf(request, pk, action):
    payment = _payment(request, pk, action)
    entries = list(
        Payment.objects.filter(receipt_number=payment.receipt_number, patient=payment.patient)
        .select_related("invoice", "received_by")
        .order_by("created_at")
    )
    content = pdf.render_pdf(
        "billing/pdf/receipt.html",
        {"payment": payment, "entries": entries, "patient": payment.patient,
         "total": sum(e.amount for e in entries)},
    )  # fmt: skip
    return pdf.pdf_response(content, f"{payment.receipt_number}.pdf")


@require_perm(Perm.BILLING_VIEW)
def receipt_pdf(request, pk):
    return _receipt_pdf(request, pk, "billing.receipt_pdf")


# --- Insurance ----------------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def claims(request):
    status = request.GET.get("status", "")
    rows = Claim.objects.select_related("invoice__patient", "coverage__payer")
    if status in ClaimStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    audit_record_patients(action="billing.claim_list", actor=request.user,
                          patients=[c.invoice.patient_id for c in page])  # fmt: skip
    payers = Payer.objects.annotate(patients=Count("coverages"))
    return render(request, "billing/claims.html",
                  {"page": page, "status": status, "statuses": ClaimStatus.choices,
                   "payers": payers, "query": f"status={status}" if status else ""})  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def payer_add(request):
    form = forms.PayerForm(request.POST or None)
    if _write(request, form, services.payer_create, done="Payer added."):
        return redirect("billing:claims")
    return _form_page(request, form, title="Add a payer", submit="Add payer",
                      back="billing:claims")  # fmt: skip


def _claim(request, pk) -> Claim:
    claim = get_object_or_404(Claim.objects.select_related("invoice"), pk=pk)
    audit_record(action="billing.claim_view", actor=request.user, obj=claim,
                 patient=claim.invoice.patient_id)  # fmt: skip
    return claim


@require_perm(Perm.BILLING_WRITE)
@require_POST
def claim_submit(request, pk):
    claim = _claim(request, pk)
    try:
        services.claim_submit(actor=request.user, claim=claim)
        messages.success(request, "Claim submitted.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("billing:invoice", claim.invoice_id)


@require_perm(Perm.BILLING_WRITE)
def claim_decide(request, pk):
    claim = _claim(request, pk)
    form = forms.ClaimDecisionForm(request.POST or None,
                                   initial={"approved_amount": claim.amount_claimed})  # fmt: skip
    if _write(request, form, services.claim_decide, done="Decision recorded.", claim=claim):
        return redirect("billing:invoice", claim.invoice_id)
    return _form_page(request, form, title=f"The payer's decision on {claim.invoice.number}",
                      submit="Record decision", back="billing:claims",
                      intro=f"Claimed: {claim.amount_claimed}. What the payer does not approve "
                      "is billed to the patient.")  # fmt: skip


@require_perm(Perm.BILLING_WRITE)
def claim_pay(request, pk):
    claim = _claim(request, pk)
    form = forms.ClaimPaymentForm(request.POST or None,
                                  initial={"amount": claim.amount_approved})  # fmt: skip
    if _write(request, form, services.claim_record_payment, done="Insurer payment recorded.",
              claim=claim):  # fmt: skip
        return redirect("billing:invoice", claim.invoice_id)
    return _form_page(request, form, title=f"Payment of the claim on {claim.invoice.number}",
                      submit="Record payment", back="billing:claims")  # fmt: skip


# --- Reports ------------------------------------------------------------------------------------


@require_perm(Perm.BILLING_VIEW)
def report(request, key):
    if key not in reports.REPORTS:
        raise Http404
    spec = reports.REPORTS[key]
    form = forms.ReportForm(request.GET or None)
    today = timezone.localdate()
    first, last = today - timedelta(days=30), today
    if form.is_valid():
        first = form.cleaned_data.get("date_from") or first
        last = form.cleaned_data.get("date_to") or last
    rows = reports.report_rows(key, first=first, last=last)
    if key in ("invoices", "patients"):
        audit_record(action=f"billing.report_{key}", actor=request.user,
                     details={"rows": len(rows)})  # fmt: skip
    if request.GET.get("format") == "csv":
        response, writer = csv_download(f"{key}-{last}.csv")
        writer.writerow(spec.columns)
        for row in rows:
            writer.writerow([row[column] for column in spec.columns])
        return response
    return render(
        request, "billing/report.html",
        {"spec": spec, "rows": rows, "form": form, "first": first, "last": last,
         "reports": reports.REPORTS.values(), "query": request.GET.urlencode()},
    )  # fmt: skip


# --- Portal -------------------------------------------------------------------------------------


@require_perm(Perm.PORTAL_USE)
def portal_invoices(request):
    data = selectors.own_account(user=request.user)
    return render(request, "billing/portal_invoices.html", {"account": data})


@require_perm(Perm.PORTAL_USE)
def portal_invoice(request, pk):
    invoice = _invoice(request, pk, "billing.portal_invoice_view")
    if invoice.status == InvoiceStatus.DRAFT:
        raise Http404
    return render(request, "billing/invoice.html", {"view": selectors.invoice_view(invoice),
                                                    "portal": True})  # fmt: skip


@require_perm(Perm.PORTAL_USE)
def portal_invoice_pdf(request, pk):
    invoice = _invoice(request, pk, "billing.portal_invoice_pdf")
    if invoice.status == InvoiceStatus.DRAFT:
        raise Http404
    return _invoice_pdf(invoice)


@require_perm(Perm.PORTAL_USE)
def portal_receipt_pdf(request, pk):
    return _receipt_pdf(request, pk, "billing.portal_receipt_pdf")
