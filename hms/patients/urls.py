from django.urls import path

from hms.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_register, name="register"),
    path("pick/", views.patient_pick, name="pick"),
    path("merge/", views.patient_merge, name="merge"),
    path("merges/<uuid:merge_id>/undo/", views.patient_unmerge, name="unmerge"),
    path("me/", views.my_record, name="my-record"),
    path("me/details/", views.my_details, name="my-details"),
    path("<uuid:patient_id>/", views.patient_chart, name="chart"),
    path("<uuid:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:patient_id>/photo/", views.patient_photo, name="photo"),
    path(
        "<uuid:patient_id>/identifiers/<int:identifier_id>/remove/",
        views.identifier_remove,
        name="identifier-remove",
    ),
]
