"""REST API of scheduling: departments, practitioners, free slots, schedules, appointments.

Reads that any signed-in user may make (departments, doctors, free slots) declare "signed_in".
Appointments declare "signed_in" too and leave the rule to the selectors and services: staff
need their role's permission, a patient reaches only their own record (others get 404).
"""

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.accounts.models import User
from hms.core.api import WallClockTimeField
from hms.core.dates import OUT_OF_RANGE, date_in_range
from hms.core.errors import NotFound
from hms.core.models import Department
from hms.core.permissions import Perm, Role, user_has_perm
from hms.patients.selectors import patient_get_for_user, patient_of_user
from hms.scheduling import selectors, services
from hms.scheduling.models import (
    Appointment,
    BookingChannel,
    BookingKind,
    Schedule,
    Service,
    WorkingHours,
)
from hms.scheduling.slots import Slot, free_slots, next_free_slots

MAX_SLOT_RANGE = timedelta(days=31)
MAX_ID = 2**63 - 1


def parse_moment(value: str | None, field: str, *, default: datetime | None = None) -> datetime:
    """An ISO date or date-time from the query string; naive values are hospital local time."""
    if not value:
        if default is None:
            raise ValidationError({field: "This field is required."})
        return default
    try:
        moment = parse_datetime(value.replace(" ", "+"))
        day = parse_date(value) if moment is None else None
    except ValueError:  # well-formed but impossible, like 2026-02-31
        moment = day = None
    if moment is None:
        if day is None:
            raise ValidationError({field: "Give an ISO date or date-time."})
        moment = datetime.combine(day, datetime.min.time())
    if not date_in_range(moment):
        raise ValidationError({field: OUT_OF_RANGE})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _int_or_none(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: "Must be an id."}) from None
    if not 0 < number <= MAX_ID:  # the database cannot even compare a bigger number
        raise ValidationError({field: "Must be an id."})
    return number


def _service_from(value) -> Service | None:
    """The service named by an id in a query or body (None when not given)."""
    if value in (None, ""):
        return None
    service = Service.objects.filter(pk=_int_or_none(value, "service")).first()
    if service is None:
        raise ValidationError({"service": "No such service."})
    return service


class DepartmentOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    location = serializers.CharField()
    phone = serializers.CharField()


class SlotOut(serializers.Serializer):
    id = serializers.CharField(source="slot_id")
    practitioner = serializers.CharField(source="practitioner_id")
    department = serializers.CharField(source="department_id")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    location = serializers.CharField()
    status = serializers.CharField(default="free")


def slot_json(slot: Slot | None) -> dict | None:
    return None if slot is None else SlotOut(slot).data


class PractitionerOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField(source="full_name")
    specialty = serializers.CharField(source="staff_profile.specialty", default="")
    department = serializers.CharField(source="schedule.department_id")
    department_name = serializers.CharField(source="schedule.department.name")
    bookable_online = serializers.BooleanField(source="schedule.bookable_online")
    next_free_slot = serializers.SerializerMethodField()

    @extend_schema_field(SlotOut(allow_null=True))
    def get_next_free_slot(self, obj) -> dict | None:
        return slot_json(self.context.get("next", {}).get(obj.pk))


class DepartmentViewSet(viewsets.ViewSet):
    """The hospital's departments."""

    queryset = Department.objects.none()  # for the schema's path types only
    permission_classes = [HasRolePermission]
    required_perms = {"list": "signed_in", "retrieve": "signed_in"}

    @extend_schema(responses=DepartmentOut(many=True))
    def list(self, request):
        return Response(DepartmentOut(Department.objects.filter(is_active=True), many=True).data)

    @extend_schema(responses=DepartmentOut)
    def retrieve(self, request, pk=None):
        department = Department.objects.filter(is_active=True, pk=_int_or_none(pk, "id")).first()
        if department is None:
            raise NotFound("No such department.")
        return Response(DepartmentOut(department).data)


class PractitionerViewSet(viewsets.ViewSet):
    """Doctors who take appointments, each with their next free slot (within four weeks)."""

    queryset = User.objects.none()  # for the schema's path types only
    permission_classes = [HasRolePermission]
    required_perms = {"list": "signed_in", "retrieve": "signed_in"}

    @extend_schema(
        parameters=[
            OpenApiParameter("department", OpenApiTypes.STR),
            OpenApiParameter("specialty", OpenApiTypes.STR),
            OpenApiParameter("q", OpenApiTypes.STR, description="Name"),
        ],
        responses=PractitionerOut(many=True),
    )
    def list(self, request):
        params = request.query_params
        practitioners = list(
            selectors.practitioners_search(
                department_id=_int_or_none(params.get("department"), "department"),
                specialty=params.get("specialty", ""),
                q=params.get("q", ""),
                online_only=request.user.role == Role.PATIENT,
            )[:200]
        )
        nxt = next_free_slots([p.pk for p in practitioners])
        return Response(PractitionerOut(practitioners, many=True, context={"next": nxt}).data)

    @extend_schema(responses=PractitionerOut)
    def retrieve(self, request, pk=None):
        practitioner = selectors.practitioners_search().filter(pk=_int_or_none(pk, "id")).first()
        if practitioner is None:
            raise NotFound("No such practitioner.")
        nxt = next_free_slots([practitioner.pk])
        return Response(PractitionerOut(practitioner, context={"next": nxt}).data)


class SlotListView(APIView):
    """Free slots (FHIR Slot, status free) of a practitioner or a department, at most 31 days."""

    permission_classes = [HasRolePermission]
    required_perm = "signed_in"

    @extend_schema(
        parameters=[
            OpenApiParameter("practitioner", OpenApiTypes.STR),
            OpenApiParameter("department", OpenApiTypes.STR),
            OpenApiParameter("start", OpenApiTypes.DATETIME, description="Default: now"),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="Default: start + 7 days"),
            OpenApiParameter(
                "service",
                OpenApiTypes.STR,
                description="Only starts with room for this service's length (the slot's end "
                "is then the service's end, rounded up to whole slots)",
            ),
        ],
        responses=SlotOut(many=True),
    )
    def get(self, request):
        params = request.query_params
        start = parse_moment(params.get("start"), "start", default=timezone.now())
        end = parse_moment(params.get("end"), "end", default=start + timedelta(days=7))
        if end <= start:
            raise ValidationError({"end": "Must be after start."})
        if end - start > MAX_SLOT_RANGE:
            raise ValidationError({"end": "Ask for at most 31 days at a time."})
        practitioner = _int_or_none(params.get("practitioner"), "practitioner")
        service = _service_from(params.get("service"))
        patient = patient_of_user(request.user)
        slots = free_slots(
            start=start,
            end=end,
            practitioner_ids=[practitioner] if practitioner else None,
            department_id=_int_or_none(params.get("department"), "department"),
            for_patient=patient,
            online_only=request.user.role == Role.PATIENT,
            minutes=service.duration_minutes if service else None,
        )
        return Response(SlotOut(slots, many=True).data)


class WorkingHoursIO(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TimeField: WallClockTimeField,
    }

    class Meta:
        model = WorkingHours
        fields = [
            "weekday",
            "start_time",
            "end_time",
            "slot_minutes",
            "break_start",
            "break_end",
            "location",
        ]
        # Optional (the model's default applies); a check in validate() once read it as
        # required and failed with a KeyError (a 500) when it was left out.
        extra_kwargs = {"slot_minutes": {"min_value": 5}}

    def validate(self, attrs):
        if attrs["end_time"] <= attrs["start_time"]:
            raise ValidationError({"end_time": "Must be after the start."})
        if bool(attrs.get("break_start")) != bool(attrs.get("break_end")):
            raise ValidationError({"break_end": "Give both ends of the break, or neither."})
        if attrs.get("break_start") and attrs["break_end"] <= attrs["break_start"]:
            raise ValidationError({"break_end": "Must be after the break's start."})
        return attrs


class ScheduleOut(serializers.ModelSerializer):
    id = serializers.CharField()
    practitioner = serializers.CharField(source="practitioner_id")
    practitioner_name = serializers.CharField(source="practitioner.full_name")
    department = serializers.CharField(source="department_id")
    hours = WorkingHoursIO(many=True)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "practitioner",
            "practitioner_name",
            "department",
            "is_active",
            "bookable_online",
            "hours",
        ]


class HoursIn(serializers.Serializer):
    hours = WorkingHoursIO(many=True)


class AppointmentOut(serializers.ModelSerializer):
    id = serializers.CharField()
    patient = serializers.CharField(source="patient_id")
    patient_name = serializers.CharField(source="patient.full_name")
    mrn = serializers.CharField(source="patient.mrn")
    practitioner = serializers.CharField(source="practitioner_id")
    practitioner_name = serializers.CharField(source="practitioner.full_name")
    department = serializers.CharField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    service = serializers.CharField(source="service_id", allow_null=True)
    fhir_status = serializers.CharField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "patient_name",
            "mrn",
            "practitioner",
            "practitioner_name",
            "department",
            "department_name",
            "service",
            "start",
            "end",
            "location",
            "status",
            "fhir_status",
            "kind",
            "overbooked",
            "channel",
            "reason",
            "cancel_reason",
            "needs_rebooking",
            "checked_in_at",
        ]

    def to_representation(self, instance: Appointment) -> dict:
        """What the declared fields give (a test holds the two equal), built directly: DRF
        generated and walked the fields again for every answer, about 0.5 ms of a booking's."""
        moment, service = _MOMENT.to_representation, instance.service_id
        checked_in = instance.checked_in_at
        return {
            "id": str(instance.pk),
            "patient": str(instance.patient_id),
            "patient_name": instance.patient.full_name,
            "mrn": instance.patient.mrn,
            "practitioner": str(instance.practitioner_id),
            "practitioner_name": instance.practitioner.full_name,
            "department": str(instance.department_id),
            "department_name": instance.department.name,
            "service": None if service is None else str(service),
            "start": moment(instance.start),
            "end": moment(instance.end),
            "location": instance.location,
            "status": str(instance.status),
            "fhir_status": instance.fhir_status,
            "kind": str(instance.kind),
            "overbooked": instance.overbooked,
            "channel": str(instance.channel),
            "reason": instance.reason,
            "cancel_reason": instance.cancel_reason,
            "needs_rebooking": instance.needs_rebooking,
            "checked_in_at": None if checked_in is None else moment(checked_in),
        }


_MOMENT = serializers.DateTimeField()


class RebookingOut(serializers.Serializer):
    needs_rebooking = AppointmentOut(many=True)


class ScheduleViewSet(viewsets.ViewSet):
    """Practitioners' schedules (FHIR Schedule) and their weekly working hours."""

    queryset = Schedule.objects.none()  # for the schema's path types only
    permission_classes = [HasRolePermission]
    required_perms = {
        "list": Perm.APPOINTMENT_VIEW,
        "retrieve": Perm.APPOINTMENT_VIEW,
        "working_hours": Perm.SCHEDULE_MANAGE,
    }

    def _get(self, pk) -> Schedule:
        schedule = (
            Schedule.objects.select_related("practitioner")
            .prefetch_related("hours")
            .filter(pk=_int_or_none(pk, "id"))
            .first()
        )
        if schedule is None:
            raise NotFound("No such schedule.")
        return schedule

    @extend_schema(responses=ScheduleOut(many=True))
    def list(self, request):
        schedules = Schedule.objects.select_related("practitioner").prefetch_related("hours")
        department = _int_or_none(request.query_params.get("department"), "department")
        if department:
            schedules = schedules.filter(department_id=department)
        return Response(ScheduleOut(schedules, many=True).data)

    @extend_schema(responses=ScheduleOut)
    def retrieve(self, request, pk=None):
        return Response(ScheduleOut(self._get(pk)).data)

    @extend_schema(request=HoursIn, responses=RebookingOut)
    @action(detail=True, methods=["put"], url_path="working-hours")
    def working_hours(self, request, pk=None):
        """Replace the weekly pattern. Booked appointments now outside it are not dropped: they
        are flagged and returned as `needs_rebooking`."""
        schedule = self._get(pk)
        body = HoursIn(data=request.data)
        body.is_valid(raise_exception=True)
        flagged = services.working_hours_set(
            actor=request.user, schedule=schedule, sessions=body.validated_data["hours"]
        )
        return Response({"needs_rebooking": AppointmentOut(flagged, many=True).data})


class BookIn(serializers.Serializer):
    patient = serializers.CharField(required=False, help_text="Omit when booking for yourself")
    practitioner = serializers.CharField()
    start = serializers.DateTimeField()
    service = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    kind = serializers.ChoiceField(choices=BookingKind.choices, default=BookingKind.REGULAR)


class RescheduleIn(serializers.Serializer):
    start = serializers.DateTimeField()


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class AppointmentViewSet(viewsets.ViewSet):
    """Appointments (FHIR Appointment). POST books (409 `slot_taken` when the time is gone)."""

    queryset = Appointment.objects.none()  # for the schema's path types only
    pagination_class = PageNumberPagination  # the list is paged (and so documented)
    permission_classes = [HasRolePermission]
    required_perms = {
        "list": "signed_in",
        "retrieve": "signed_in",
        "create": "signed_in",
        "reschedule": "signed_in",
        "cancel": "signed_in",
        "check_in": Perm.APPOINTMENT_BOOK,
    }

    def _get(self, request, pk) -> Appointment:
        return selectors.appointment_get_for_user(user=request.user, appointment_id=pk)

    def _get_for_change(self, request, pk) -> Appointment:
        """Only staff who book, or the patient themself, may change an appointment; to anyone
        else it does not exist."""
        user = request.user
        if user.role != Role.PATIENT and not user_has_perm(user, Perm.APPOINTMENT_BOOK):
            raise NotFound("No such appointment.")
        return self._get(request, pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("practitioner", OpenApiTypes.STR),
            OpenApiParameter("department", OpenApiTypes.STR),
            OpenApiParameter("patient", OpenApiTypes.STR),
            OpenApiParameter("start", OpenApiTypes.DATETIME),
            OpenApiParameter("end", OpenApiTypes.DATETIME),
            OpenApiParameter("status", OpenApiTypes.STR),
        ],
        responses=AppointmentOut(many=True),
    )
    def list(self, request):
        params = request.query_params
        start = parse_moment(params["start"], "start") if params.get("start") else None
        end = parse_moment(params["end"], "end") if params.get("end") else None
        patient = params.get("patient") or None
        if patient:
            patient_get_for_user(user=request.user, patient_id=patient)
        qs = selectors.appointments_search(
            user=request.user,
            practitioner_id=_int_or_none(params.get("practitioner"), "practitioner"),
            department_id=_int_or_none(params.get("department"), "department"),
            patient_id=patient,
            start=start,
            end=end,
            status=params.get("status") or None,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        if not patient:
            selectors.appointments_audit_shown(user=request.user, appointments=page)
        return paginator.get_paginated_response(AppointmentOut(page, many=True).data)

    @extend_schema(responses=AppointmentOut)
    def retrieve(self, request, pk=None):
        return Response(AppointmentOut(self._get(request, pk)).data)

    @extend_schema(request=BookIn, responses={201: AppointmentOut})
    def create(self, request):
        body = BookIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        appointment = services.appointment_book_as(
            actor=request.user,
            patient_id=data.get("patient"),
            practitioner_id=_int_or_none(data["practitioner"], "practitioner"),
            start=data["start"],
            service=_service_from(data.get("service")),
            reason=data.get("reason", ""),
            kind=data["kind"],
            channel=BookingChannel.API,
        )  # it holds its patient, practitioner and department: the answer needs no query
        return Response(AppointmentOut(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RescheduleIn, responses=AppointmentOut)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        appointment = self._get_for_change(request, pk)
        body = RescheduleIn(data=request.data)
        body.is_valid(raise_exception=True)
        moved = services.appointment_reschedule(
            actor=request.user, appointment=appointment, start=body.validated_data["start"]
        )
        return Response(AppointmentOut(moved).data)

    @extend_schema(request=CancelIn, responses=AppointmentOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        appointment = self._get_for_change(request, pk)
        body = CancelIn(data=request.data)
        body.is_valid(raise_exception=True)
        cancelled = services.appointment_cancel(
            actor=request.user, appointment=appointment, reason=body.validated_data.get("reason")
        )
        return Response(AppointmentOut(cancelled).data)

    @extend_schema(request=None, responses=AppointmentOut)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        appointment = self._get(request, pk)
        checked_in = services.appointment_check_in(actor=request.user, appointment=appointment)
        return Response(AppointmentOut(checked_in).data)
