"""The chat (a widget on every public and portal page, and a page of its own that works without
JavaScript), the public articles it links to, and the staff's knowledge base and logs."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from hms.assistant import selectors, services
from hms.assistant.forms import ArticleForm, ChatForm, RateForm
from hms.assistant.limits import TOO_MANY, chat_allowed
from hms.assistant.models import Article, Conversation, Message, Sender
from hms.core.access import public, require_perm
from hms.core.errors import DomainError
from hms.core.permissions import Perm
from hms.core.selectors import hospital_get

SESSION_KEY = "assistant_conversation"


def _session_key(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def _current(request) -> Conversation | None:
    """This browser's conversation, when it is still the caller's own."""
    conversation_id = request.session.get(SESSION_KEY)
    if not conversation_id:
        return None
    rows = Conversation.objects.filter(pk=conversation_id)
    if request.user.is_authenticated:
        rows = rows.filter(user=request.user)
    else:
        rows = rows.filter(user__isnull=True, session_key=request.session.session_key or "")
    return rows.first()


@public
def chat(request):
    """GET: the whole conversation as a page. POST: one message; htmx gets the new turn only."""
    form = ChatForm(request.POST or None)
    turn, error = [], ""
    if request.method == "POST":
        if not form.is_valid():
            error = "Write a message (at most 1000 characters)."
        elif not chat_allowed(request):
            error = TOO_MANY
        else:
            current = _current(request)
            try:
                conversation, answer = services.assistant_message_send(
                    user=request.user,
                    session_key=_session_key(request),
                    conversation_id=current.pk if current else None,
                    text=form.cleaned_data["text"],
                )
            except DomainError as exc:
                error = exc.message
            else:
                request.session[SESSION_KEY] = str(conversation.pk)
                turn = list(conversation.messages.order_by("-created_at", "-pk")[:2])[::-1]
        if request.htmx:
            return render(request, "assistant/_turn.html", {"turn": turn, "error": error})
        if not error:
            return redirect("assistant:chat")
    current = _current(request)
    history = list(current.messages.all()) if current else []
    return render(
        request,
        "assistant/chat.html",
        {
            "form": form if error else ChatForm(),
            "turn": history,
            "error": error,
            "hospital": hospital_get(),
        },
    )


@public
def rate(request, message_id):
    if request.method != "POST":
        return redirect("assistant:chat")
    form = RateForm(request.POST)
    message = None
    if form.is_valid():
        try:
            message = services.assistant_message_rate(
                user=request.user,
                session_key=request.session.session_key or "",
                message_id=message_id,
                rating=form.cleaned_data["rating"],
            )
        except DomainError:
            message = None
    if message is None:
        raise Http404("No such message.")
    if request.htmx:
        return render(request, "assistant/_rating.html", {"m": message})
    return redirect("assistant:chat")


@public
def article(request, slug):
    page = get_object_or_404(Article, slug=slug, is_active=True)
    return render(request, "assistant/article.html", {"article": page})


# --- Staff ----------------------------------------------------------------------------------


@require_perm(Perm.ASSISTANT_MANAGE)
def articles(request):
    rows = Article.objects.all()
    return render(request, "assistant/articles.html", {"rows": rows})


@require_perm(Perm.ASSISTANT_MANAGE)
def article_edit(request, article_id=None):
    instance = get_object_or_404(Article, pk=article_id) if article_id else None
    form = ArticleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.article_save(actor=request.user, article=instance, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Article saved: the assistant answers from it now.")
            return redirect("assistant:articles")
    return render(request, "assistant/article_form.html", {"form": form, "article": instance})


@require_perm(Perm.ASSISTANT_MANAGE)
def conversations(request):
    rated = "down" if request.GET.get("rated") == "down" else ""
    rows = selectors.conversations_recent(user=request.user, rated=rated)
    return render(request, "assistant/conversations.html", {"rows": rows, "rated": rated})


@require_perm(Perm.ASSISTANT_MANAGE)
def conversation(request, conversation_id):
    found = selectors.conversation_log(user=request.user, conversation_id=conversation_id)
    if found is None:
        raise Http404("No such conversation.")
    convo, rows = found
    return render(
        request,
        "assistant/conversation.html",
        {"conversation": convo, "rows": rows, "assistant": Sender.ASSISTANT, "Message": Message},
    )
