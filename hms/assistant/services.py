"""The assistant's writes: a conversation turn, a rating, the knowledge base, the purge.

A turn acts on a patient's record only through the scheduling and feedback services, with the
signed-in user as their actor: those services check every permission and rule themselves.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from hms.accounts.models import User
from hms.assistant.engine import Reply, Turn
from hms.assistant.models import Article, Conversation, Message, Sender
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import DomainError, NotFound
from hms.core.permissions import Perm

MAX_TEXT = 1000


def _own_conversation(*, user, session_key: str, conversation_id) -> Conversation | None:
    """The caller's conversation: a signed-in user's own, or an anonymous one of this browser
    session (an anonymous API client without a session continues by the id alone; those
    conversations never hold personal data). Anyone else's is NotFound."""
    try:
        key = uuid.UUID(str(conversation_id))
    except ValueError:
        raise NotFound("No such conversation.", code="no_conversation") from None
    rows = Conversation.objects.select_for_update().filter(pk=key)
    if user is not None and user.is_authenticated:
        rows = rows.filter(user=user)
    else:
        rows = rows.filter(user__isnull=True, session_key=session_key or "")
    conversation = rows.first()
    if conversation is None:
        raise NotFound("No such conversation.", code="no_conversation")
    return conversation


def assistant_message_send(
    *, user: User | None, session_key: str = "", conversation_id=None, text: str
) -> tuple[Conversation, Message]:
    """One turn: keep the message, answer it, keep the answer. Anyone may chat; what concerns a
    patient's record is done by the scheduling and feedback services with `user` as actor."""
    if not isinstance(text, str) or not text.strip():
        raise DomainError("Write a message.", code="required", fields={"text": "Required."})
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise DomainError(
            f"Keep messages under {MAX_TEXT} characters.",
            code="too_long",
            fields={"text": f"At most {MAX_TEXT} characters."},
        )
    signed_in = user is not None and user.is_authenticated
    with transaction.atomic():
        if conversation_id not in (None, ""):
            conversation = _own_conversation(
                user=user, session_key=session_key, conversation_id=conversation_id
            )
        else:
            conversation = Conversation.objects.create(
                user=user if signed_in else None, session_key="" if signed_in else session_key
            )
        history = list(
            conversation.messages.filter(sender=Sender.USER).values_list("text", flat=True)
        )
        Message.objects.create(conversation=conversation, sender=Sender.USER, text=text)
        state = dict(conversation.state)
        reply: Reply = Turn(user=user, state=state, history=[*history, text]).respond(text)
        answer = Message.objects.create(
            conversation=conversation,
            sender=Sender.ASSISTANT,
            text=reply.text,
            intent=reply.intent,
            confidence=round(reply.confidence, 3),
            sources=reply.sources,
            actions=reply.actions,
        )
        conversation.state = state
        conversation.save(update_fields=["state", "updated_at"])
    return conversation, answer


def assistant_message_rate(*, user: User | None, session_key: str = "", message_id, rating: int):
    """A thumbs up (+1) or down (-1) on one of the assistant's answers in the caller's own
    conversation; rating again replaces it."""
    if rating not in (1, -1):
        raise DomainError("Rate with +1 or -1.", fields={"rating": "Use 1 or -1."})
    try:
        pk = int(message_id)
    except (TypeError, ValueError):
        raise NotFound("No such message.") from None
    if not 0 < pk < 2**63:
        raise NotFound("No such message.")
    with transaction.atomic():
        message = (
            Message.objects.select_related("conversation")
            .filter(pk=pk, sender=Sender.ASSISTANT)
            .first()
        )
        if message is None:
            raise NotFound("No such message.")
        _own_conversation(
            user=user, session_key=session_key, conversation_id=message.conversation_id
        )
        Message.objects.filter(pk=pk).update(rating=rating)
        message.rating = rating
    return message


def article_save(
    *,
    actor: User,
    article: Article | None = None,
    title: str,
    body: str,
    keywords: str = "",
    is_active: bool = True,
) -> Article:
    """Add or edit a knowledge-base article (the assistant answers from it at once)."""
    require(actor, Perm.ASSISTANT_MANAGE, "Your role does not edit the assistant's articles.")
    title, body = title.strip(), body.strip()
    errors = {}
    if not title:
        errors["title"] = "Give the article a title."
    if not body:
        errors["body"] = "Write the article."
    if errors:
        raise DomainError("Please check the article.", fields=errors)
    with transaction.atomic():
        if article is None:
            base = slugify(title)[:100] or "article"
            slug, n = base, 1
            while Article.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            article = Article(slug=slug)
        article.title, article.body = title[:200], body
        article.keywords, article.is_active = keywords.strip()[:500], is_active
        article.save()
        audit_record(action="assistant.article_save", actor=actor, obj=article)
    return article


def conversations_purge(*, now: datetime | None = None) -> int:
    """Delete conversations idle for more than ASSISTANT_RETENTION_DAYS (a daily job)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ASSISTANT_RETENTION_DAYS)
    with transaction.atomic():
        _, per_model = Conversation.objects.filter(updated_at__lt=cutoff).delete()
        deleted = per_model.get(Conversation._meta.label, 0)
        if deleted:
            audit_record(action="assistant.purge", details={"before": cutoff.isoformat()})
    return deleted
