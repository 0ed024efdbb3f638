from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from hms.core.api import ErrorDetailOut
from hms.core.errors import DomainError
from hms.core.phones import PhoneSerializerField
from hms.patients.models import IdentifierSystem, Patient, PatientIdentifier
from hms.patients.services import EDITABLE_FIELDS, birth_date_check


class IdentifierSerializer(serializers.ModelSerializer):
    system = serializers.ChoiceField(choices=IdentifierSystem.choices)

    class Meta:
        model = PatientIdentifier
        fields = ["system", "system_uri", "value"]
        extra_kwargs = {"system_uri": {"required": False}}
        validators: list = []  # uniqueness is checked by the service (409 identifier_taken)


class PatientSerializer(serializers.ModelSerializer):
    """The patient JSON contract: id, mrn (read-only), names, birth_date, sex, phone, email..."""

    id = serializers.CharField(read_only=True)
    mrn = serializers.CharField(read_only=True)
    mrn_display = serializers.CharField(read_only=True)
    identifiers = IdentifierSerializer(many=True, required=False)
    merged_into = serializers.CharField(read_only=True, source="merged_into_id", allow_null=True)
    has_photo = serializers.SerializerMethodField()
    phone = PhoneSerializerField(required=False)
    emergency_contact_phone = PhoneSerializerField(required=False)
    next_of_kin_phone = PhoneSerializerField(required=False)

    class Meta:
        model = Patient
        fields = [
            "id", "mrn", "mrn_display", "given_name", "middle_names", "family_name", "birth_date",
            "sex", "gender_identity", "preferred_language", "phone", "email", "address_line",
            "city", "postal_code", "country", "emergency_contact_name", "emergency_contact_phone",
            "emergency_contact_relation", "next_of_kin_name", "next_of_kin_phone",
            "next_of_kin_relation", "insurance_payer", "insurance_policy_number",
            "consent_data_sharing", "consent_sms", "consent_email", "identifiers", "merged_into",
            "has_photo", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def get_has_photo(self, patient) -> bool:
        return bool(patient.photo)

    def validate_birth_date(self, born):
        try:
            birth_date_check(born)
        except DomainError as exc:
            raise serializers.ValidationError(exc.message) from None
        return born

    def service_fields(self) -> dict:
        return {k: v for k, v in self.validated_data.items() if k in EDITABLE_FIELDS}


class PatientCreateSerializer(PatientSerializer):
    confirm_not_duplicate = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Register even though similar records exist (after checking them).",
    )

    class Meta(PatientSerializer.Meta):
        fields = PatientSerializer.Meta.fields + ["confirm_not_duplicate"]


class DuplicateMatchSerializer(serializers.Serializer):
    id = serializers.CharField(source="patient.pk")
    mrn = serializers.CharField(source="patient.mrn")
    given_name = serializers.CharField(source="patient.given_name")
    family_name = serializers.CharField(source="patient.family_name")
    birth_date = serializers.DateField(source="patient.birth_date")
    phone = serializers.CharField(source="patient.phone")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class PossibleDuplicateDetail(ErrorDetailOut):
    matches = DuplicateMatchSerializer(many=True)


class PossibleDuplicateOut(serializers.Serializer):
    """409 `possible_duplicate`: the error, with the similar records."""

    error = PossibleDuplicateDetail()


@extend_schema_serializer(many=False)  # one page object, though it answers the list action
class PatientPageSerializer(serializers.Serializer):
    results = PatientSerializer(many=True)
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
