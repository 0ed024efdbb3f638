"""`POST /api/v1/assistant/messages`: one turn of a conversation, for anyone (anonymous, with a
session or with a token); what concerns a patient's record needs the patient signed in."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.assistant import services
from hms.assistant.limits import TOO_MANY, chat_allowed
from hms.assistant.nlu import INTENTS
from hms.assistant.services import MAX_TEXT


class MessageIn(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT, trim_whitespace=True)
    conversation = serializers.UUIDField(required=False, allow_null=True)


class ActionOut(serializers.Serializer):
    label = serializers.CharField()
    send = serializers.CharField(required=False, help_text="Text to send back to do it.")
    url = serializers.CharField(required=False, help_text="A page to open.")


class SourceOut(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()


class MessageOut(serializers.Serializer):
    conversation = serializers.CharField()
    message = serializers.CharField(help_text="The reply's id, to rate it.")
    reply = serializers.CharField()
    intent = serializers.ChoiceField(choices=INTENTS)
    confidence = serializers.FloatField()
    actions = ActionOut(many=True, required=False)
    sources = SourceOut(many=True, required=False)


def session_key_of(request) -> str:
    session = getattr(request, "session", None)
    return (session.session_key or "") if session is not None else ""


class AssistantMessagesView(APIView):
    """Send a message to the patients' assistant and get its reply."""

    permission_classes = [HasRolePermission]
    required_perm = "public"

    @extend_schema(request=MessageIn, responses={200: MessageOut})
    def post(self, request):
        body = MessageIn(data=request.data)
        body.is_valid(raise_exception=True)
        if not chat_allowed(request):
            raise Throttled(detail=TOO_MANY)
        conversation, answer = services.assistant_message_send(
            user=request.user,
            session_key=session_key_of(request),
            conversation_id=body.validated_data.get("conversation"),
            text=body.validated_data["text"],
        )
        data = {
            "conversation": str(conversation.pk),
            "message": str(answer.pk),
            "reply": answer.text,
            "intent": answer.intent,
            "confidence": answer.confidence,
        }
        if answer.actions:
            data["actions"] = answer.actions
        if answer.sources:
            data["sources"] = answer.sources
        return Response(data)


class RatingIn(serializers.Serializer):
    rating = serializers.ChoiceField(choices=[1, -1], help_text="1 helpful, -1 not helpful.")


class RatingOut(serializers.Serializer):
    message = serializers.CharField()
    rating = serializers.IntegerField()


class AssistantRatingView(APIView):
    """Rate one of the assistant's replies in the caller's own conversation."""

    permission_classes = [HasRolePermission]
    required_perm = "public"

    @extend_schema(request=RatingIn, responses={200: RatingOut})
    def post(self, request, message_id):
        body = RatingIn(data=request.data)
        body.is_valid(raise_exception=True)
        message = services.assistant_message_rate(
            user=request.user,
            session_key=session_key_of(request),
            message_id=message_id,
            rating=body.validated_data["rating"],
        )
        return Response({"message": str(message.pk), "rating": message.rating})
