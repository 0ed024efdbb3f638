"""REST API of billing: the same services, selectors, permissions and audit as the pages.

Amounts are strings with two decimals ("120.00") in the currency of `BILLING_CURRENCY`; ids
are opaque strings. Billing staff only (BILLING_VIEW to read, BILLING_WRITE to act); patients
see their bills in the portal."""

from django.conf import settings
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.billing import pdf, selectors, services
from hms.billing.models import (
    DESK_METHOD_CHOICES,
    Charge,
    ChargeStatus,
    Claim,
    ClaimStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PriceKind,
)
from hms.core.audit import audit_record, audit_record_patients
from hms.core.errors import DomainError, NotFound
from hms.core.permissions import Perm
from hms.patients.models import Patient
from hms.patients.selectors import patient_get_for_user

PATIENT_PARAM = OpenApiParameter("patient", OpenApiTypes.STR, description="Patient id")
STATUS_PARAM = OpenApiParameter("status", OpenApiTypes.STR, description="Filter by status")


def Amount(**kwargs) -> serializers.DecimalField:  # noqa: N802  (a field factory)
    """Money in JSON: a string with two decimals."""
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, coerce_to_string=True, **kwargs
    )


def AmountIn(**kwargs) -> serializers.DecimalField:  # noqa: N802
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, max_value=9999999999, **kwargs
    )


# --- Serializers ---------------------------------------------------------------------------------


class LineOut(serializers.ModelSerializer):
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=True)
    unit_price = Amount()
    discount = Amount()
    tax = Amount()
    total = Amount()

    class Meta:
        model = InvoiceLine
        fields = ["description", "code", "quantity", "unit_price", "discount", "tax_rate",
                  "tax", "total"]  # fmt: skip


class InvoiceOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    number = serializers.CharField(allow_null=True)
    lines = LineOut(many=True)
    subtotal = Amount()
    tax_total = Amount()
    total = Amount()
    paid = Amount(source="figures.paid")
    credited = Amount(source="figures.credits")
    balance = Amount(source="figures.balance")
    payer_share = Amount()

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "patient", "status", "currency", "lines", "subtotal", "tax_total",
            "total", "paid", "credited", "balance", "payer_share", "issued_at", "due_date",
            "void_reason",
        ]  # fmt: skip


def _with_figures(invoice: Invoice) -> Invoice:
    invoice.figures = selectors.invoice_money(invoice)
    return invoice


class VoidIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class PaymentOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    invoice = serializers.CharField(source="invoice_id", allow_null=True)
    amount = Amount()
    refunds = serializers.CharField(source="refunds_id", allow_null=True)

    class Meta:
        model = Payment
        fields = ["id", "patient", "invoice", "kind", "method", "amount", "currency",
                  "receipt_number", "reference", "reason", "refunds", "received_at"]  # fmt: skip


class PaymentIn(serializers.Serializer):
    invoice = serializers.CharField(max_length=64)
    amount = AmountIn()
    method = serializers.ChoiceField(choices=DESK_METHOD_CHOICES)
    reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class RefundIn(serializers.Serializer):
    amount = AmountIn()
    reason = serializers.CharField(max_length=300)
    method = serializers.ChoiceField(choices=DESK_METHOD_CHOICES, required=False)


class BalanceOut(serializers.Serializer):
    patient = serializers.CharField()
    balance = Amount()
    credit = Amount()
    currency = serializers.CharField()


class ChargeOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    invoice = serializers.CharField(source="invoice_id", allow_null=True)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=True)
    unit_price = Amount()
    discount = Amount()

    class Meta:
        model = Charge
        fields = ["id", "patient", "invoice", "kind", "code", "description", "quantity",
                  "unit_price", "tax_rate", "discount", "status", "void_reason",
                  "service_date", "source_key"]  # fmt: skip


class ChargeIn(serializers.Serializer):
    patient = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=200)
    unit_price = AmountIn()
    quantity = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=0, max_value=100000, default=1
    )
    kind = serializers.ChoiceField(choices=PriceKind.choices, default=PriceKind.OTHER)
    tax_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, default=0
    )
    discount = AmountIn(default=0)


class ClaimOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    invoice = serializers.CharField(source="invoice_id")
    payer = serializers.CharField(source="coverage.payer.name")
    policy_number = serializers.CharField(source="coverage.policy_number")
    amount_claimed = Amount()
    amount_approved = Amount(allow_null=True)
    amount_paid = Amount()

    class Meta:
        model = Claim
        fields = ["id", "invoice", "payer", "policy_number", "status", "amount_claimed",
                  "amount_approved", "amount_paid", "rejection_reason", "submitted_at",
                  "decided_at"]  # fmt: skip


class DecisionIn(serializers.Serializer):
    approved_amount = AmountIn()
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class ClaimPaymentIn(serializers.Serializer):
    amount = AmountIn()
    reference = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


def _parsed(serializer_class, data) -> dict:
    body = serializer_class(data=data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


def _patient(request, patient_id, action: str) -> Patient:
    return patient_get_for_user(user=request.user, patient_id=patient_id, action=action)


def _get(model, pk, related: tuple[str, ...] = ()):
    rows = model.objects.select_related(*related) if related else model.objects.all()
    try:
        return rows.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError):
        raise NotFound(f"No such {model._meta.verbose_name}.") from None


# --- Views ---------------------------------------------------------------------------------------


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invoices: draft -> issued (`issue`) -> partially paid -> paid, or `void` with a reason.
    `?patient=` and `?status=` filter the list."""

    permission_classes = [HasRolePermission]
    serializer_class = InvoiceOut
    required_perms = {
        "list": Perm.BILLING_VIEW,
        "retrieve": Perm.BILLING_VIEW,
        "pdf": Perm.BILLING_VIEW,
        "issue": Perm.BILLING_WRITE,
        "void": Perm.BILLING_WRITE,
    }

    def get_queryset(self):  # used by the schema generator only
        return Invoice.objects.none()

    def _invoice(self, pk, action="billing.invoice_view") -> Invoice:
        return selectors.invoice_get_for_user(user=self.request.user, invoice_id=pk, action=action)

    @extend_schema(parameters=[PATIENT_PARAM, STATUS_PARAM])
    def list(self, request, *args, **kwargs):
        rows = Invoice.objects.prefetch_related("lines").order_by("-created_at")
        patient_id = request.query_params.get("patient")
        if patient_id:
            rows = rows.filter(patient=_patient(request, patient_id, "billing.invoice_list"))
        status = request.query_params.get("status")
        if status:
            if status not in InvoiceStatus.values:
                raise DomainError("Unknown status.", fields={"status": "Unknown status."})
            rows = rows.filter(status=status)
        page = self.paginate_queryset(rows)
        audit_record_patients(
            action="billing.invoice_list", actor=request.user, patients=[i.patient_id for i in page]
        )
        return self.get_paginated_response(
            InvoiceOut([_with_figures(i) for i in page], many=True).data
        )

    def retrieve(self, request, pk=None, *args, **kwargs):
        return Response(InvoiceOut(_with_figures(self._invoice(pk))).data)

    @extend_schema(request=None, responses=InvoiceOut)
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice = self._invoice(pk, "billing.invoice_issue_form")
        invoice = services.invoice_issue(actor=request.user, invoice=invoice)
        return Response(InvoiceOut(_with_figures(invoice)).data)

    @extend_schema(request=VoidIn, responses=InvoiceOut)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = _parsed(VoidIn, request.data)
        invoice = self._invoice(pk, "billing.invoice_void_form")
        invoice = services.invoice_void(actor=request.user, invoice=invoice, reason=data["reason"])
        return Response(InvoiceOut(_with_figures(invoice)).data)

    @extend_schema(
        request=None,
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, "The PDF")},
    )
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        invoice = self._invoice(pk, "billing.invoice_pdf")
        content = pdf.render_pdf(
            "billing/pdf/invoice.html", {"view": selectors.invoice_view(invoice)}
        )
        return pdf.pdf_response(content, f"{invoice.number or 'draft-invoice'}.pdf")


class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Payments and refunds (reversing entries). POST takes a payment for an issued invoice;
    more than its balance is kept as the patient's credit."""

    permission_classes = [HasRolePermission]
    serializer_class = PaymentOut
    required_perms = {
        "list": Perm.BILLING_VIEW,
        "retrieve": Perm.BILLING_VIEW,
        "create": Perm.BILLING_WRITE,
        "refund": Perm.BILLING_WRITE,
    }

    def get_queryset(self):  # used by the schema generator only
        return Payment.objects.none()

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request, *args, **kwargs):
        rows = Payment.objects.order_by("-received_at")
        patient_id = request.query_params.get("patient")
        if patient_id:
            rows = rows.filter(patient=_patient(request, patient_id, "billing.payment_list"))
        page = self.paginate_queryset(rows)
        audit_record_patients(
            action="billing.payment_list", actor=request.user, patients=[p.patient_id for p in page]
        )
        return self.get_paginated_response(PaymentOut(page, many=True).data)

    def retrieve(self, request, pk=None, *args, **kwargs):
        payment = selectors.payment_get_for_user(user=request.user, payment_id=pk)
        return Response(PaymentOut(payment).data)

    @extend_schema(request=PaymentIn, responses={201: PaymentOut})
    def create(self, request):
        data = _parsed(PaymentIn, request.data)
        invoice = selectors.invoice_get_for_user(
            user=request.user, invoice_id=data.pop("invoice"), action="billing.payment_form"
        )
        payment = services.payment_take(actor=request.user, invoice=invoice, **data)
        return Response(PaymentOut(payment).data, status=201)

    @extend_schema(request=RefundIn, responses={201: PaymentOut})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        data = _parsed(RefundIn, request.data)
        payment = selectors.payment_get_for_user(
            user=request.user, payment_id=pk, action="billing.refund_form"
        )
        refund = services.payment_refund(actor=request.user, payment=payment, **data)
        return Response(PaymentOut(refund).data, status=201)


class ChargeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Charges: posted by care (once per source) or added by staff; `void` with a reason while
    their invoice is a draft."""

    permission_classes = [HasRolePermission]
    serializer_class = ChargeOut
    required_perms = {
        "list": Perm.BILLING_VIEW,
        "retrieve": Perm.BILLING_VIEW,
        "create": Perm.BILLING_WRITE,
        "void": Perm.BILLING_WRITE,
    }

    def get_queryset(self):  # used by the schema generator only
        return Charge.objects.none()

    def _charge(self, pk) -> Charge:
        charge = _get(Charge, pk)
        audit_record(action="billing.charge_view", actor=self.request.user, obj=charge,
                     patient=charge.patient_id)  # fmt: skip
        return charge

    @extend_schema(parameters=[PATIENT_PARAM, STATUS_PARAM])
    def list(self, request, *args, **kwargs):
        rows = Charge.objects.order_by("-created_at")
        patient_id = request.query_params.get("patient")
        if patient_id:
            rows = rows.filter(patient=_patient(request, patient_id, "billing.charge_list"))
        status = request.query_params.get("status")
        if status:
            if status not in ChargeStatus.values:
                raise DomainError("Unknown status.", fields={"status": "Unknown status."})
            rows = rows.filter(status=status)
        page = self.paginate_queryset(rows)
        audit_record_patients(
            action="billing.charge_list", actor=request.user, patients=[c.patient_id for c in page]
        )
        return self.get_paginated_response(ChargeOut(page, many=True).data)

    def retrieve(self, request, pk=None, *args, **kwargs):
        return Response(ChargeOut(self._charge(pk)).data)

    @extend_schema(request=ChargeIn, responses={201: ChargeOut})
    def create(self, request):
        data = _parsed(ChargeIn, request.data)
        patient = _patient(request, data.pop("patient"), "billing.charge_form")
        charge = services.charge_add(actor=request.user, patient=patient, **data)
        return Response(ChargeOut(charge).data, status=201)

    @extend_schema(request=VoidIn, responses=ChargeOut)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        data = _parsed(VoidIn, request.data)
        charge = services.charge_void(actor=request.user, charge=self._charge(pk), **data)
        return Response(ChargeOut(charge).data)


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Insurance claims: draft -> `submit` -> `decide` (approved / partly approved / rejected,
    with the payer's reason) -> `pay`. `?status=` filters the list."""

    permission_classes = [HasRolePermission]
    serializer_class = ClaimOut
    required_perms = {
        "list": Perm.BILLING_VIEW,
        "retrieve": Perm.BILLING_VIEW,
        "submit": Perm.BILLING_WRITE,
        "decide": Perm.BILLING_WRITE,
        "pay": Perm.BILLING_WRITE,
    }

    def get_queryset(self):  # used by the schema generator only
        return Claim.objects.none()

    def _claim(self, pk) -> Claim:
        claim = _get(Claim, pk, related=("invoice", "coverage__payer"))
        audit_record(action="billing.claim_view", actor=self.request.user, obj=claim,
                     patient=claim.invoice.patient_id)  # fmt: skip
        return claim

    @extend_schema(parameters=[STATUS_PARAM])
    def list(self, request, *args, **kwargs):
        rows = Claim.objects.select_related("invoice", "coverage__payer").order_by("-created_at")
        status = request.query_params.get("status")
        if status:
            if status not in ClaimStatus.values:
                raise DomainError("Unknown status.", fields={"status": "Unknown status."})
            rows = rows.filter(status=status)
        page = self.paginate_queryset(rows)
        audit_record_patients(action="billing.claim_list", actor=request.user,
                              patients=[c.invoice.patient_id for c in page])  # fmt: skip
        return self.get_paginated_response(ClaimOut(page, many=True).data)

    def retrieve(self, request, pk=None, *args, **kwargs):
        return Response(ClaimOut(self._claim(pk)).data)

    @extend_schema(request=None, responses=ClaimOut)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return Response(
            ClaimOut(services.claim_submit(actor=request.user, claim=self._claim(pk))).data
        )

    @extend_schema(request=DecisionIn, responses=ClaimOut)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        data = _parsed(DecisionIn, request.data)
        claim = services.claim_decide(actor=request.user, claim=self._claim(pk), **data)
        return Response(ClaimOut(claim).data)

    @extend_schema(request=ClaimPaymentIn, responses=ClaimOut)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        data = _parsed(ClaimPaymentIn, request.data)
        claim = services.claim_record_payment(actor=request.user, claim=self._claim(pk), **data)
        return Response(ClaimOut(claim).data)


class PatientBalanceView(APIView):
    """What a patient owes on issued invoices, and the credit held on their account."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.BILLING_VIEW

    @extend_schema(responses=BalanceOut)
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, "billing.balance_view")
        balance, credit = selectors.patient_balance(patient.pk)
        return Response(
            BalanceOut(
                {"patient": str(patient.pk), "balance": balance, "credit": credit,
                 "currency": settings.BILLING_CURRENCY}
            ).data
        )  # fmt: skip
