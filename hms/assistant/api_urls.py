from django.urls import path

from hms.assistant import api

urlpatterns = [
    path("assistant/messages", api.AssistantMessagesView.as_view(), name="assistant-messages"),
    path(
        "assistant/messages/<str:message_id>/rating",
        api.AssistantRatingView.as_view(),
        name="assistant-message-rating",
    ),
]
