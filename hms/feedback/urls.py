from django.urls import path

from hms.feedback import views

app_name = "feedback"

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/thanks/", views.contact_thanks, name="contact-thanks"),
    path("feedback/my/", views.portal_feedback, name="portal"),
    path("feedback/my/<uuid:appointment_id>/", views.portal_answer, name="portal-answer"),
    path("feedback/", views.dashboard, name="dashboard"),
    path("feedback/inbox/", views.inbox, name="inbox"),
    path("feedback/inbox/<int:contact_id>/", views.inbox_message, name="inbox-message"),
    path("feedback/inbox/<int:contact_id>/status/", views.inbox_status, name="inbox-status"),
    path("feedback/inbox/<int:contact_id>/assign/", views.inbox_assign, name="inbox-assign"),
    path("feedback/inbox/<int:contact_id>/note/", views.inbox_note, name="inbox-note"),
]
