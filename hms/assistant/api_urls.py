from django.urls import path

from hms.assistant import api

urlpatterns = [
    path("assistant/messages", api.AssistantMessagesView.as_view(), name="assistant-messages"),
]
