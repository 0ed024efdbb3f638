"""REST API of Contact Us and visit feedback.

`POST /contact/` is open to anyone (rate limited like the page); the inbox list is for the
staff who handle it. `POST /feedback/` is the visit's own patient's answer (a second is 409
`already_answered`); staff with feedback access list answers and read the NPS summary.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from hms.accounts.api_auth import HasRolePermission
from hms.core.audit import audit_record_patients
from hms.core.permissions import Perm
from hms.feedback import selectors, services
from hms.feedback.limits import TOO_MANY, contact_allowed
from hms.feedback.models import ContactMessage, ContactTopic, VisitFeedback
from hms.feedback.services import MAX_COMMENT, MAX_MESSAGE


class ContactIn(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    topic = serializers.ChoiceField(choices=ContactTopic.choices)
    message = serializers.CharField(max_length=MAX_MESSAGE)

    def validate(self, data):
        if not data.get("email") and not data.get("phone"):
            raise serializers.ValidationError(
                {"email": "Give an email address or a phone number so we can answer."}
            )
        return data


class ContactOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    assignee = serializers.EmailField(source="assignee.email", default=None, read_only=True)

    class Meta:
        model = ContactMessage
        fields = ["id", "name", "email", "phone", "topic", "message", "status", "assignee",
                  "created_at"]  # fmt: skip


class ContactReceipt(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    reference = serializers.CharField()


class ContactViewSet(viewsets.ViewSet):
    """Contact Us messages: anyone writes, the inbox staff read."""

    queryset = ContactMessage.objects.none()
    pagination_class = PageNumberPagination
    permission_classes = [HasRolePermission]
    required_perms = {"create": "public", "list": Perm.CONTACT_MANAGE}

    @extend_schema(request=ContactIn, responses={201: ContactReceipt})
    def create(self, request):
        body = ContactIn(data=request.data)
        body.is_valid(raise_exception=True)
        if not contact_allowed(request, body.validated_data["email"]):
            raise Throttled(detail=TOO_MANY)
        contact = services.contact_message_submit(**body.validated_data, sender=request.user)
        return Response(
            {"id": str(contact.pk), "status": contact.status, "reference": f"C-{contact.pk}"},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("status", str, description="open (default), all, or one")],
        responses=ContactOut(many=True),
    )
    def list(self, request):
        rows = selectors.contact_inbox(
            user=request.user, status=request.query_params.get("status", "")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ContactOut(page, many=True).data)


class FeedbackIn(serializers.Serializer):
    appointment = serializers.CharField()
    rating = serializers.IntegerField(min_value=1, max_value=5)
    nps = serializers.IntegerField(min_value=0, max_value=10)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=MAX_COMMENT)


class FeedbackOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    appointment = serializers.CharField(source="appointment_id", read_only=True)
    department = serializers.CharField(source="appointment.department.name", read_only=True)
    practitioner = serializers.CharField(
        source="appointment.practitioner.full_name", read_only=True
    )

    class Meta:
        model = VisitFeedback
        fields = ["id", "appointment", "department", "practitioner", "rating", "nps", "comment",
                  "requested_at", "answered_at"]  # fmt: skip


class Score(serializers.Serializer):
    answers = serializers.IntegerField()
    nps = serializers.IntegerField(allow_null=True)
    rating = serializers.FloatField(allow_null=True)


class GroupScore(Score):
    key = serializers.CharField()
    label = serializers.CharField()


class SummaryOut(serializers.Serializer):
    overall = Score()
    by_department = GroupScore(many=True)
    by_practitioner = GroupScore(many=True)
    requested = serializers.IntegerField()


class FeedbackViewSet(viewsets.ViewSet):
    """Visit feedback: the patient answers once per completed visit; staff read."""

    queryset = VisitFeedback.objects.none()
    pagination_class = PageNumberPagination
    permission_classes = [HasRolePermission]
    required_perms = {
        "create": Perm.PORTAL_USE,
        "list": Perm.FEEDBACK_VIEW,
        "summary": Perm.FEEDBACK_VIEW,
    }

    @extend_schema(request=FeedbackIn, responses={201: FeedbackOut})
    def create(self, request):
        body = FeedbackIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        feedback = services.feedback_submit(
            actor=request.user,
            appointment_id=data["appointment"],
            rating=data["rating"],
            nps=data["nps"],
            comment=data.get("comment", ""),
        )
        return Response(FeedbackOut(feedback).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=FeedbackOut(many=True))
    def list(self, request):
        rows = selectors.feedback_answered_list(user=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        audit_record_patients(
            action="feedback.view", actor=request.user,
            patients=[row.appointment.patient_id for row in page],
        )  # fmt: skip
        return paginator.get_paginated_response(FeedbackOut(page, many=True).data)

    @extend_schema(responses=SummaryOut)
    @action(detail=False, methods=["get"])
    def summary(self, request):
        summary = selectors.feedback_summary(user=request.user)
        return Response(SummaryOut(summary).data)
