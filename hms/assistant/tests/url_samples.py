"""Arguments for the role-matrix test (tests/url_samples.py merges these in)."""


def _article() -> dict:
    import uuid

    from hms.assistant.models import Article

    slug = f"sample-{uuid.uuid4().hex[:8]}"
    article = Article.objects.create(slug=slug, title="Sample", body="A sample article.")
    return {"slug": article.slug, "article_id": article.pk}


def _message() -> dict:
    from hms.assistant.models import Conversation, Message, Sender

    conversation = Conversation.objects.create()
    message = Message.objects.create(conversation=conversation, sender=Sender.ASSISTANT, text="Hi")
    return {"message_id": message.pk, "conversation_id": conversation.pk}


def _article_id() -> dict:
    return {"article_id": _article()["article_id"]}


def _slug() -> dict:
    return {"slug": _article()["slug"]}


def _message_id() -> dict:
    return {"message_id": _message()["message_id"]}


def _conversation_id() -> dict:
    return {"conversation_id": _message()["conversation_id"]}


URL_SAMPLES = {
    "assistant:article": _slug,
    "assistant:article-edit": _article_id,
    "assistant:rate": _message_id,
    "assistant-message-rating": _message_id,
    "assistant:conversation": _conversation_id,
}
