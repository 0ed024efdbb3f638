"""`/api/v1/patients/`: search, register (409 possible_duplicate), read and update patients."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from hms.accounts.api_auth import HasRolePermission
from hms.core.api import error_body
from hms.core.permissions import Perm
from hms.patients import duplicates, search, selectors, services
from hms.patients.models import Patient
from hms.patients.serializers import (
    DuplicateMatchSerializer,
    PatientCreateSerializer,
    PatientPageSerializer,
    PatientSerializer,
    PossibleDuplicateOut,
)


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class PatientViewSet(viewsets.GenericViewSet):
    """Patients. Staff who read demographics list and read; registering staff create and
    update; a patient user may read only their own record (any other id answers 404)."""

    permission_classes = [HasRolePermission]
    required_perms = {
        "list": Perm.PATIENT_VIEW_DEMOGRAPHICS,
        "retrieve": "signed_in",  # object-level check in selectors.patient_get_for_user
        "create": Perm.PATIENT_REGISTER,
        "partial_update": Perm.PATIENT_REGISTER,
    }
    serializer_class = PatientSerializer
    queryset = Patient.objects.none()
    pagination_class = None  # the search pages itself (PatientPageSerializer, no total count)
    lookup_value_regex = "[^/]+"

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="MRN, name, phone or date of birth"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="At most 100"),
        ],
        responses={200: PatientPageSerializer},
    )
    def list(self, request):
        page = search.patient_search(
            user=request.user,
            query=request.query_params.get("q", ""),
            page=_int(request.query_params.get("page"), 1),
            page_size=_int(request.query_params.get("page_size"), 25),
        )

        def link(number):
            params = request.query_params.copy()
            params["page"] = number
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        return Response(
            {
                "results": PatientSerializer(page.patients, many=True).data,
                "page": page.number,
                "page_size": page.page_size,
                "next": link(page.number + 1) if page.has_next else None,
                "previous": link(page.number - 1) if page.has_previous else None,
            }
        )

    def retrieve(self, request, pk=None):
        patient = selectors.patient_get_for_user(user=request.user, patient_id=pk)
        return Response(PatientSerializer(patient).data)

    @extend_schema(
        request=PatientCreateSerializer,
        responses={201: PatientSerializer, 409: PossibleDuplicateOut},
    )
    def create(self, request):
        body = PatientCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if not data.get("confirm_not_duplicate"):
            matches = duplicates.patient_find_possible_duplicates(
                given_name=data["given_name"],
                family_name=data["family_name"],
                birth_date=data["birth_date"],
                phone=data.get("phone", ""),
                user=request.user,
            )
            if matches:
                payload = error_body(
                    "possible_duplicate",
                    "Similar patients are already registered. Check them; send "
                    '"confirm_not_duplicate": true to register anyway.',
                )
                payload["error"]["matches"] = DuplicateMatchSerializer(matches, many=True).data
                return Response(payload, status=status.HTTP_409_CONFLICT)
        patient = services.patient_create(
            actor=request.user,
            identifiers=data.get("identifiers", []),
            **body.service_fields(),
        )
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PatientSerializer, responses={200: PatientSerializer})
    def partial_update(self, request, pk=None):
        patient = selectors.patient_get_for_user(
            user=request.user, patient_id=pk, action="patient.view_for_edit"
        )
        body = PatientSerializer(patient, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        patient = services.patient_update(
            actor=request.user,
            patient=patient,
            identifiers=body.validated_data.get("identifiers", []),
            **body.service_fields(),
        )
        return Response(PatientSerializer(patient).data)
