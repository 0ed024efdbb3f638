from django.urls import path

from hms.scheduling import views

app_name = "scheduling"

urlpatterns = [
    # Staff
    path("appointments/", views.appointments_calendar, name="calendar"),
    path("appointments/book/", views.appointment_book, name="book"),
    path("appointments/walk-in/", views.appointment_overbook, name="overbook"),
    path("appointments/rebooking/", views.rebooking_list, name="rebooking"),
    path("waitlist/", views.waitlist, name="waitlist"),
    path(
        "appointments/<uuid:appointment_id>/", views.appointment_detail, name="appointment-detail"
    ),
    path(
        "appointments/<uuid:appointment_id>/check-in/",
        views.appointment_check_in,
        name="appointment-check-in",
    ),
    path(
        "appointments/<uuid:appointment_id>/no-show/",
        views.appointment_no_show,
        name="appointment-no-show",
    ),
    path(
        "appointments/<uuid:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment-cancel",
    ),
    path(
        "appointments/<uuid:appointment_id>/reschedule/",
        views.appointment_reschedule,
        name="appointment-reschedule",
    ),
    path("queue/", views.queue_home, name="queue-home"),
    path("queue/<int:department_id>/", views.queue, name="queue"),
    path("schedules/", views.schedule_list, name="schedule-list"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="schedule-edit"),
    path(
        "schedules/<int:schedule_id>/hours/add/",
        views.schedule_hours_add,
        name="schedule-hours-add",
    ),
    path(
        "schedules/<int:schedule_id>/hours/remove/",
        views.schedule_hours_remove,
        name="schedule-hours-remove",
    ),
    path(
        "schedules/<int:schedule_id>/exceptions/add/",
        views.schedule_exception_add,
        name="schedule-exception-add",
    ),
    path(
        "schedules/<int:schedule_id>/exceptions/remove/",
        views.schedule_exception_remove,
        name="schedule-exception-remove",
    ),
    path(
        "schedules/<int:schedule_id>/feed/rotate/",
        views.schedule_feed_rotate,
        name="schedule-feed-rotate",
    ),
    # Portal
    path("my/", views.portal_appointments, name="portal-appointments"),
    path("my/find/", views.portal_find, name="portal-find"),
    path("my/doctors/<int:practitioner_id>/", views.portal_doctor, name="portal-doctor"),
    path("my/book/", views.portal_book, name="portal-book"),
    path("my/<uuid:appointment_id>/reschedule/", views.portal_reschedule, name="portal-reschedule"),
    path("my/<uuid:appointment_id>/cancel/", views.portal_cancel, name="portal-cancel"),
    path("my/<uuid:appointment_id>/appointment.ics", views.portal_ics, name="portal-ics"),
    path("my/reminders/", views.portal_reminders, name="portal-reminders"),
    path("my/waitlist/", views.portal_waitlist_join, name="portal-waitlist-join"),
    path(
        "my/offers/<int:entry_id>/decline/", views.portal_offer_decline, name="portal-offer-decline"
    ),
    # Public
    path("doctors/", views.public_doctors, name="public-doctors"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar-feed"),
]
