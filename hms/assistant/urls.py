from django.urls import path

from hms.assistant import views

app_name = "assistant"

urlpatterns = [
    path("", views.chat, name="chat"),
    path("messages/<int:message_id>/rate/", views.rate, name="rate"),
    path("help/<slug:slug>/", views.article, name="article"),
    path("articles/", views.articles, name="articles"),
    path("articles/new/", views.article_edit, name="article-new"),
    path("articles/<int:article_id>/", views.article_edit, name="article-edit"),
    path("conversations/", views.conversations, name="conversations"),
    path("conversations/<uuid:conversation_id>/", views.conversation, name="conversation"),
]
