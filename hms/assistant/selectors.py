"""Reads for the staff who improve the assistant: conversation logs with their ratings."""

from django.db.models import Count, Q, QuerySet

from hms.assistant.models import Conversation, Message
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.permissions import Perm


def conversations_recent(*, user, rated: str = "", limit: int = 100) -> QuerySet[Conversation]:
    """The latest conversations with their message and rating counts; `rated` = "down" keeps
    those with a thumbs down (the ones worth reading first)."""
    require(user, Perm.ASSISTANT_MANAGE)
    rows = Conversation.objects.select_related("user").annotate(
        n=Count("messages"),
        up=Count("messages", filter=Q(messages__rating=1)),
        down=Count("messages", filter=Q(messages__rating=-1)),
    )
    if rated == "down":
        rows = rows.filter(down__gt=0)
    return rows.order_by("-updated_at")[:limit]


def conversation_log(*, user, conversation_id) -> tuple[Conversation, list[Message]] | None:
    """One conversation's messages; reading it is audited (patients may have written about
    themselves)."""
    require(user, Perm.ASSISTANT_MANAGE)
    conversation = Conversation.objects.select_related("user").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    audit_record(action="assistant.conversation_view", actor=user, obj=conversation)
    return conversation, list(conversation.messages.all())
