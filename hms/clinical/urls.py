from django.urls import path

from hms.clinical import views

app_name = "clinical"

urlpatterns = [
    path("encounters/", views.encounter_list, name="encounter-list"),
    path("patients/<uuid:patient_id>/encounters/new/", views.encounter_open, name="encounter-open"),
    path("encounters/<uuid:pk>/", views.encounter_detail, name="encounter"),
    path(
        "encounters/for-appointment/<uuid:appointment_id>/",
        views.appointment_encounter,
        name="appointment-encounter",
    ),
    path("encounters/<uuid:pk>/start/", views.encounter_start, name="encounter-start"),
    path("encounters/<uuid:pk>/close/", views.encounter_close, name="encounter-close"),
    path("encounters/<uuid:pk>/vitals/", views.vitals_add, name="vitals-add"),
    path("encounters/<uuid:pk>/diagnoses/", views.diagnosis_add, name="diagnosis-add"),
    path("encounters/<uuid:pk>/allergies/", views.allergy_add, name="allergy-add"),
    path("encounters/<uuid:pk>/prescriptions/", views.prescription_add, name="prescription-add"),
    path("encounters/<uuid:pk>/notes/", views.note_add, name="note-add"),
    path("encounters/<uuid:pk>/lab-orders/", views.lab_order_add, name="lab-order-add"),
    path("encounters/<uuid:pk>/attachments/", views.attachment_add, name="attachment-add"),
    path("notes/<uuid:pk>/edit/", views.note_edit, name="note-edit"),
    path("notes/<uuid:pk>/sign/", views.note_sign, name="note-sign"),
    path("notes/<uuid:pk>/amend/", views.note_amend, name="note-amend"),
    path("icd10/", views.icd10_search_view, name="icd10-search"),
    path("medicines/", views.medicine_search_view, name="medicine-search"),
    path("attachments/<uuid:pk>/", views.attachment_download, name="attachment"),
    path("lab/", views.lab_worklist, name="lab-worklist"),
    path("lab/orders/<uuid:pk>/", views.lab_order_detail, name="lab-order"),
    path("lab/orders/<uuid:pk>/collect/", views.lab_order_collect, name="lab-order-collect"),
    path("lab/orders/<uuid:pk>/results/", views.lab_result_add, name="lab-result-add"),
    path("lab/results/<uuid:pk>/release/", views.lab_result_release, name="lab-result-release"),
    path("lab/results/<uuid:pk>/correct/", views.lab_result_correct, name="lab-result-correct"),
    path("prescriptions/", views.prescription_list, name="prescription-list"),
    path("prescriptions/<uuid:pk>/stop/", views.prescription_stop, name="prescription-stop"),
    path("allergies/<uuid:pk>/status/", views.allergy_status, name="allergy-status"),
]
