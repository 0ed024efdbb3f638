"""REST API of the clinical record: the same services, selectors, permissions and audit as the UI.

Lists take `?patient=<id>` (a patient token defaults to its own record); encounters, lab orders
and prescriptions may also be listed without it by staff, as worklists (one audit row per
patient shown). A patient token asking about
anyone else gets 404.
"""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.accounts.models import User
from hms.clinical import selectors, services
from hms.clinical.forms import MAX_QUANTITY
from hms.clinical.icd10 import icd10_search
from hms.clinical.models import (
    Allergy,
    AllergySeverity,
    AllergyStatus,
    ClinicalNote,
    Diagnosis,
    DiagnosisStatus,
    Encounter,
    EncounterKind,
    LabOrder,
    LabPriority,
    LabResult,
    NoteAmendment,
    Prescription,
    Vitals,
)
from hms.clinical.selectors import Area
from hms.clinical.vitals import DECIMAL_PLACES, VITAL_SIGNS, VitalSign, blood_pressure_error
from hms.core.audit import audit_record_patients
from hms.core.errors import DomainError
from hms.core.models import Department
from hms.core.permissions import Perm
from hms.patients.models import Patient
from hms.patients.selectors import patient_get_for_user

PATIENT_PARAM = OpenApiParameter(
    "patient", OpenApiTypes.STR, description="Patient id (required for staff on most lists)"
)
STATUS_PARAM = OpenApiParameter(
    "status", OpenApiTypes.STR, description="Worklist filter by status (without ?patient=)"
)
MINE_PARAM = OpenApiParameter(
    "mine", OpenApiTypes.STR, description="1: only encounters I treat (without ?patient=)"
)
SIGNED_IN = "signed_in"  # reads shared by staff and patients: the selector checks the area


class PatientRef(serializers.PrimaryKeyRelatedField):
    """A patient id in a request body; the access check happens in the view."""

    def __init__(self, **kwargs):
        super().__init__(queryset=Patient.objects.all(), pk_field=serializers.UUIDField(), **kwargs)


# --- Serializers ---------------------------------------------------------------------------------


class EncounterOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    practitioner = serializers.CharField(source="practitioner_id", allow_null=True)
    department = serializers.CharField(source="department_id", allow_null=True)

    class Meta:
        model = Encounter
        fields = [
            "id", "patient", "kind", "status", "practitioner", "practitioner_name",
            "department", "appointment_id", "reason", "started_at", "ended_at",
        ]  # fmt: skip


class EncounterIn(serializers.Serializer):
    patient = PatientRef()
    kind = serializers.ChoiceField(choices=EncounterKind.choices, default=EncounterKind.OUTPATIENT)
    practitioner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), required=False, allow_null=True
    )
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class VitalsOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    encounter = serializers.CharField(source="encounter_id", allow_null=True)

    class Meta:
        model = Vitals
        fields = [
            "id", "patient", "encounter", "recorded_at", "temperature_c", "pulse_per_min",
            "systolic_mmhg", "diastolic_mmhg", "respiratory_rate_per_min", "spo2_percent",
            "weight_kg", "height_cm", "bmi", "units", "flags",
        ]  # fmt: skip


def _vital_field(sign: VitalSign) -> serializers.Field:
    limits = {"min_value": sign.low, "max_value": sign.high, "required": False, "allow_null": True}
    if sign.max_digits:
        return serializers.DecimalField(
            max_digits=sign.max_digits, decimal_places=DECIMAL_PLACES, **limits
        )
    return serializers.IntegerField(**limits)


class VitalsIn(serializers.Serializer):
    """The encounter, and one field per vital sign of `vitals.VITAL_SIGNS` (its possible range)."""

    encounter = serializers.UUIDField()

    def get_fields(self):
        return super().get_fields() | {sign.field: _vital_field(sign) for sign in VITAL_SIGNS}

    def validate(self, data):
        if message := blood_pressure_error(data):
            raise serializers.ValidationError({"diastolic_mmhg": message})
        return data


class DiagnosisOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    encounter = serializers.CharField(source="encounter_id", allow_null=True)

    class Meta:
        model = Diagnosis
        fields = [
            "id", "patient", "encounter", "code_system", "code", "code_display", "description",
            "status", "onset_date", "recorded_at",
        ]  # fmt: skip


class DiagnosisIn(serializers.Serializer):
    encounter = serializers.UUIDField()
    code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    status = serializers.ChoiceField(choices=DiagnosisStatus.choices, default="active")
    onset_date = serializers.DateField(required=False, allow_null=True)


class AllergyOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")

    class Meta:
        model = Allergy
        fields = [
            "id", "patient", "substance", "reaction", "severity", "status", "is_intolerance",
            "recorded_at",
        ]  # fmt: skip


class AllergyIn(serializers.Serializer):
    patient = PatientRef()
    substance = serializers.CharField(max_length=200)
    reaction = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    severity = serializers.ChoiceField(choices=AllergySeverity.choices, default="moderate")
    status = serializers.ChoiceField(choices=AllergyStatus.choices, default="active")
    is_intolerance = serializers.BooleanField(default=False)


class PrescriptionOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    encounter = serializers.CharField(source="encounter_id", allow_null=True)
    prescriber = serializers.CharField(source="prescriber_id", allow_null=True)
    allergy_acknowledged_by = serializers.CharField(
        source="allergy_acknowledged_by_id", allow_null=True
    )

    class Meta:
        model = Prescription
        fields = [
            "id", "patient", "encounter", "drug", "drug_code", "item_code", "strength", "dose",
            "route",
            "frequency", "duration", "quantity", "instructions", "status", "prescribed_at",
            "prescriber", "allergy_warning", "allergy_acknowledged_by",
        ]  # fmt: skip


class AllergyStatusIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=AllergyStatus.choices)


class StopIn(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class PrescriptionIn(serializers.Serializer):
    encounter = serializers.UUIDField()
    drug = serializers.CharField(max_length=200)
    item_code = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text="The pharmacy catalogue's item code; empty: free text, not stocked.",
    )  # fmt: skip
    strength = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    dose = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    route = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    frequency = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    duration = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, required=False, allow_null=True
    )
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    acknowledge_allergy_warning = serializers.BooleanField(
        default=False, help_text="Must be true when the drug matches a recorded allergy (409)."
    )


class AmendmentOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    author = serializers.CharField(source="author_id")

    class Meta:
        model = NoteAmendment
        fields = ["id", "author", "text", "reason", "created_at"]


class NoteOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    encounter = serializers.CharField(source="encounter_id", allow_null=True)
    author = serializers.CharField(source="author_id")
    signed_by = serializers.CharField(source="signed_by_id", allow_null=True)
    amendments = AmendmentOut(many=True, read_only=True)

    class Meta:
        model = ClinicalNote
        fields = [
            "id", "patient", "encounter", "author", "subjective", "objective", "assessment",
            "plan", "signed_at", "signed_by", "amendments", "created_at",
        ]  # fmt: skip


class NoteIn(serializers.Serializer):
    encounter = serializers.UUIDField()
    subjective = serializers.CharField(required=False, allow_blank=True, default="")
    objective = serializers.CharField(required=False, allow_blank=True, default="")
    assessment = serializers.CharField(required=False, allow_blank=True, default="")
    plan = serializers.CharField(required=False, allow_blank=True, default="")
    sign = serializers.BooleanField(default=False)


class NoteUpdateIn(serializers.Serializer):
    subjective = serializers.CharField(required=False, allow_blank=True)
    objective = serializers.CharField(required=False, allow_blank=True)
    assessment = serializers.CharField(required=False, allow_blank=True)
    plan = serializers.CharField(required=False, allow_blank=True)


class AmendmentIn(serializers.Serializer):
    text = serializers.CharField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class LabResultOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    order = serializers.CharField(source="order_id")
    patient = serializers.CharField(source="patient_id")
    corrects = serializers.CharField(source="corrects_id", allow_null=True)

    class Meta:
        model = LabResult
        fields = [
            "id", "order", "patient", "analyte", "value", "value_text", "unit",
            "reference_low", "reference_high", "flag", "resulted_at", "released_to_patient",
            "is_current", "corrects", "correction_reason",
        ]  # fmt: skip


class LabOrderOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    patient = serializers.CharField(source="patient_id")
    encounter = serializers.CharField(source="encounter_id", allow_null=True)
    results = LabResultOut(many=True, read_only=True)

    class Meta:
        model = LabOrder
        fields = [
            "id", "patient", "encounter", "test_code", "test_name", "priority", "status",
            "clinical_info", "ordered_at", "collected_at", "resulted_at", "results",
        ]  # fmt: skip


class LabOrderIn(serializers.Serializer):
    encounter = serializers.UUIDField()
    test_code = serializers.CharField(max_length=20)
    test_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=LabPriority.choices, default="routine")
    clinical_info = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class LabResultIn(serializers.Serializer):
    order = serializers.UUIDField()
    value = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True
    )
    value_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reference_low = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True
    )
    reference_high = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True
    )


class LabResultCorrectIn(serializers.Serializer):
    value = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, allow_null=True
    )
    value_text = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=300)


class Icd10Out(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()
    billable = serializers.BooleanField()


# --- Views ----------------------------------------------------------------------------------------


def _on_encounter(request, data: dict) -> dict:
    """The record is written in the body's `encounter`, for that encounter's patient."""
    encounter = Encounter.objects.select_related("patient").filter(pk=data.pop("encounter")).first()
    if encounter is None:
        raise DomainError("No such encounter.", fields={"encounter": "No such encounter."})
    return {"patient": encounter.patient, "encounter": encounter}


def _on_patient(action: str):
    """The record is written for the body's `patient`, read through the access check."""

    def target(request, data: dict) -> dict:
        patient_id = data.pop("patient").pk
        return {
            "patient": patient_get_for_user(user=request.user, patient_id=patient_id, action=action)
        }

    return target


def _on_lab_order(request, data: dict) -> dict:
    """The result is written on the body's lab `order`."""
    order = LabOrder.objects.filter(pk=data.pop("order")).first()
    if order is None:
        raise DomainError("No such lab order.", fields={"order": "No such lab order."})
    return {"order": order}


class ClinicalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List (one patient's, audited) and retrieve (access-checked, audited) for one model."""

    permission_classes = [HasRolePermission]
    model: type = None
    area: Area = Area.CLINICAL
    output: type[serializers.Serializer] = None
    worklist = False  # may staff list across patients?

    def get_serializer_class(self):
        return self.output

    def patient_rows(self, patient: Patient) -> QuerySet:
        raise NotImplementedError

    def worklist_rows(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self):  # used by the schema generator only
        return self.model.objects.none()

    @extend_schema(parameters=[PATIENT_PARAM])
    def list(self, request, *args, **kwargs):
        patient_id = request.query_params.get("patient")
        if not patient_id and self.worklist and not selectors.is_portal_user(request.user):
            selectors.check_area(request.user, self.area)
            rows = self.worklist_rows()
            page = self.paginate_queryset(rows)
            audit_record_patients(
                action=f"{self.model._meta.model_name}.worklist_view",
                actor=request.user,
                patients=[row.patient_id for row in page],
            )
            return self.get_paginated_response(self.output(page, many=True).data)
        patient = selectors.clinical_patient_get(
            user=request.user,
            patient_id=patient_id,
            area=self.area,
            action=f"{self.model._meta.model_name}.list_view",
        )
        page = self.paginate_queryset(self.patient_rows(patient))
        return self.get_paginated_response(self.output(page, many=True).data)

    def retrieve(self, request, pk=None, *args, **kwargs):
        obj = self.get_record(pk)
        return Response(self.output(obj).data)

    def get_record(self, pk, queryset=None):
        return selectors.record_get_for_user(
            user=self.request.user, model=self.model, pk=pk, queryset=queryset
        )

    def create_with(self, body: type[serializers.Serializer], service, target) -> Response:
        """Every create: validate the body, find what the record is written on (`target`),
        call the service as the requesting user, answer 201 with the new record."""
        parsed = body(data=self.request.data)
        parsed.is_valid(raise_exception=True)
        data = dict(parsed.validated_data)
        return self.created(service(actor=self.request.user, **target(self.request, data), **data))

    def created(self, obj) -> Response:
        return Response(self.output(obj).data, status=201)


@extend_schema_view(list=extend_schema(parameters=[PATIENT_PARAM, MINE_PARAM]))
class EncounterViewSet(ClinicalViewSet):
    """Encounters: opened -> in progress (`start`) -> closed (`close`). Without `?patient=`,
    staff get the encounters not closed yet (`?mine=1`: their own)."""

    model, area, output, worklist = Encounter, Area.CLINICAL, EncounterOut, True
    required_perms = {
        "list": Perm.CLINICAL_VIEW,
        "retrieve": Perm.CLINICAL_VIEW,
        "create": Perm.CLINICAL_WRITE,
        "start": Perm.CLINICAL_WRITE,
        "close": Perm.ENCOUNTER_CLOSE,
    }

    def patient_rows(self, patient):
        return selectors.encounters_of(patient)

    def worklist_rows(self):
        mine = self.request.query_params.get("mine") == "1"
        return selectors.open_encounters(practitioner=self.request.user if mine else None)

    @extend_schema(request=EncounterIn, responses={201: EncounterOut})
    def create(self, request):
        return self.create_with(
            EncounterIn, services.encounter_open, _on_patient("encounter.open_form")
        )

    @extend_schema(request=None, responses=EncounterOut)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        encounter = self.get_record(pk)
        return Response(
            EncounterOut(services.encounter_start(actor=request.user, encounter=encounter)).data
        )

    @extend_schema(request=None, responses=EncounterOut)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        encounter = self.get_record(pk)
        return Response(
            EncounterOut(services.encounter_close(actor=request.user, encounter=encounter)).data
        )


class VitalsViewSet(ClinicalViewSet):
    """Vital signs; BMI and abnormal flags (adult ranges) are computed."""

    model, area, output = Vitals, Area.CLINICAL, VitalsOut
    required_perms = {
        "list": Perm.CLINICAL_VIEW,
        "retrieve": Perm.CLINICAL_VIEW,
        "create": Perm.CLINICAL_WRITE,
    }

    def patient_rows(self, patient):
        return selectors.vitals_of(patient)

    @extend_schema(request=VitalsIn, responses={201: VitalsOut})
    def create(self, request):
        return self.create_with(VitalsIn, services.vitals_record, _on_encounter)


class DiagnosisViewSet(ClinicalViewSet):
    """Diagnoses coded in ICD-10-CM (validated against the full code set), free text beside."""

    model, area, output = Diagnosis, Area.CLINICAL, DiagnosisOut
    required_perms = {
        "list": Perm.CLINICAL_VIEW,
        "retrieve": Perm.CLINICAL_VIEW,
        "create": Perm.DIAGNOSE,
    }

    def patient_rows(self, patient):
        return selectors.diagnoses_of(patient)

    @extend_schema(request=DiagnosisIn, responses={201: DiagnosisOut})
    def create(self, request):
        return self.create_with(DiagnosisIn, services.diagnosis_add, _on_encounter)


class AllergyViewSet(ClinicalViewSet):
    """Allergies and intolerances: clinicians, pharmacists, and the patient (own)."""

    model, area, output = Allergy, Area.MEDICATION, AllergyOut
    required_perms = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": Perm.CLINICAL_WRITE,
        "status": Perm.CLINICAL_WRITE,
    }

    @extend_schema(request=AllergyStatusIn, responses=AllergyOut)
    @action(detail=True, methods=["post"], url_path="status")
    def status(self, request, pk=None):
        allergy = self.get_record(pk)
        body = AllergyStatusIn(data=request.data)
        body.is_valid(raise_exception=True)
        allergy = services.allergy_status_set(
            actor=request.user, allergy=allergy, status=body.validated_data["status"]
        )
        return Response(AllergyOut(allergy).data)

    def patient_rows(self, patient):
        return selectors.allergies_of(patient)

    @extend_schema(request=AllergyIn, responses={201: AllergyOut})
    def create(self, request):
        return self.create_with(
            AllergyIn, services.allergy_record, _on_patient("allergy.record_form")
        )


@extend_schema_view(list=extend_schema(parameters=[PATIENT_PARAM, STATUS_PARAM]))
class PrescriptionViewSet(ClinicalViewSet):
    """Prescriptions. A drug matching a recorded allergy answers 409 `allergy_warning` unless
    `acknowledge_allergy_warning` is true; the acknowledgement is recorded."""

    model, area, output, worklist = Prescription, Area.MEDICATION, PrescriptionOut, True
    required_perms = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": Perm.PRESCRIBE,
        "stop": Perm.PRESCRIBE,
    }

    @extend_schema(request=StopIn, responses=PrescriptionOut)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        prescription = self.get_record(pk)
        body = StopIn(data=request.data)
        body.is_valid(raise_exception=True)
        prescription = services.prescription_stop(
            actor=request.user, prescription=prescription, **body.validated_data
        )
        return Response(PrescriptionOut(prescription).data)

    def patient_rows(self, patient):
        return selectors.prescriptions_of(patient)

    def worklist_rows(self):
        return selectors.pharmacy_prescriptions(
            status=self.request.query_params.get("status") or "active"
        )

    @extend_schema(request=PrescriptionIn, responses={201: PrescriptionOut})
    def create(self, request):
        return self.create_with(PrescriptionIn, services.prescription_create, _on_encounter)


class NoteViewSet(ClinicalViewSet):
    """SOAP notes. Drafts can be changed (PATCH) by their author; signed notes are read-only and
    take amendments instead (`amend`). A patient token sees its own signed notes."""

    model, area, output = ClinicalNote, Area.NOTES, NoteOut
    required_perms = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": Perm.CLINICAL_WRITE,
        "partial_update": Perm.CLINICAL_WRITE,
        "sign": Perm.CLINICAL_WRITE,
        "amend": Perm.CLINICAL_WRITE,
    }

    def patient_rows(self, patient):
        return selectors.notes_of(patient, user=self.request.user)

    @extend_schema(request=NoteIn, responses={201: NoteOut})
    def create(self, request):
        return self.create_with(NoteIn, services.note_create, _on_encounter)

    @extend_schema(request=NoteUpdateIn, responses=NoteOut)
    def partial_update(self, request, pk=None):
        note = self.get_record(pk)
        body = NoteUpdateIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        note = services.note_update(actor=request.user, note=note, **body.validated_data)
        return Response(NoteOut(note).data)

    @extend_schema(request=None, responses=NoteOut)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        note = services.note_sign(actor=request.user, note=self.get_record(pk))
        return Response(NoteOut(note).data)

    @extend_schema(request=AmendmentIn, responses={201: AmendmentOut})
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        note = self.get_record(pk)
        body = AmendmentIn(data=request.data)
        body.is_valid(raise_exception=True)
        amendment = services.note_amend(actor=request.user, note=note, **body.validated_data)
        return Response(AmendmentOut(amendment).data, status=201)


@extend_schema_view(list=extend_schema(parameters=[PATIENT_PARAM, STATUS_PARAM]))
class LabOrderViewSet(ClinicalViewSet):
    """Lab orders: ordered -> collected (`collect`) -> resulted (by entering a result)."""

    model, area, output, worklist = LabOrder, Area.LABS, LabOrderOut, True
    required_perms = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": Perm.CLINICAL_WRITE,
        "collect": Perm.LAB_RESULT_WRITE,
    }

    def patient_rows(self, patient):
        return selectors.lab_orders_of(patient, user=self.request.user)

    def worklist_rows(self):
        return selectors.lab_worklist(
            status=self.request.query_params.get("status")
        ).prefetch_related("results")

    def retrieve(self, request, pk=None, *args, **kwargs):
        obj = self.get_record(pk)
        if selectors.is_portal_user(request.user):
            obj = selectors.lab_orders_of(obj.patient, user=request.user).get(pk=obj.pk)
        return Response(self.output(obj).data)

    @extend_schema(request=LabOrderIn, responses={201: LabOrderOut})
    def create(self, request):
        return self.create_with(LabOrderIn, services.lab_order_create, _on_encounter)

    @extend_schema(request=None, responses=LabOrderOut)
    @action(detail=True, methods=["post"])
    def collect(self, request, pk=None):
        order = services.lab_order_collect(actor=request.user, order=self.get_record(pk))
        return Response(LabOrderOut(order).data)


class LabResultViewSet(ClinicalViewSet):
    """Lab results with unit, reference range and computed flag. A value outside the test's
    plausible limits is refused (400 `implausible_value`); a second value of an analyte is a
    correction (`correct`, with a reason: the old value stays, no longer current). `release`
    (doctors) shows the current value to the patient; a patient token sees only those."""

    model, area, output = LabResult, Area.LABS, LabResultOut
    required_perms = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": Perm.LAB_RESULT_WRITE,
        "release": Perm.LAB_RESULT_RELEASE,
        "correct": Perm.LAB_RESULT_WRITE,
    }

    def patient_rows(self, patient):
        return selectors.lab_results_of(patient, user=self.request.user)

    @extend_schema(request=LabResultIn, responses={201: LabResultOut})
    def create(self, request):
        return self.create_with(LabResultIn, services.lab_result_record, _on_lab_order)

    @extend_schema(request=None, responses=LabResultOut)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        result = services.lab_result_release(actor=request.user, result=self.get_record(pk))
        return Response(LabResultOut(result).data)

    @extend_schema(request=LabResultCorrectIn, responses={201: LabResultOut})
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        result = self.get_record(pk)
        body = LabResultCorrectIn(data=request.data)
        body.is_valid(raise_exception=True)
        corrected = services.lab_result_correct(
            actor=request.user, result=result, **body.validated_data
        )
        return self.created(corrected)


class Icd10SearchView(APIView):
    """Search the ICD-10-CM code set by code prefix or words (`?q=`)."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.CLINICAL_VIEW

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, required=True)],
        responses=Icd10Out(many=True),
    )
    def get(self, request):
        query = (request.query_params.get("q") or "")[:80]
        if not query.strip():
            raise DomainError("Give a search term as ?q=.", fields={"q": "This field is required."})
        return Response(Icd10Out(icd10_search(query, limit=25), many=True).data)
