"""The catalogue of the hospital's events: what each carries, for the rule builder, the API and
the outbox. Another app adds its own with one line: `register_event(name, {field: type}, text)`.

Types: "id" (an opaque id as a string), "str", "bool", "int", "decimal", "datetime"."""

from hms.core.events import register_event

_APPOINTMENT = {
    "appointment_id": "id",
    "patient_id": "id",
    "service_id": "id",
    "practitioner_id": "id",
    "department_id": "id",
    "department_name": "str",
    "start": "datetime",
    "end": "datetime",
    "actor_id": "id",
}
_APPOINTMENT_LABELS = {
    "department_name": "Department",
    "start": "Starts at",
    "end": "Ends at",
    "practitioner_id": "Practitioner (id)",
    "patient_id": "Patient (id)",
}
_LAB_RECORDED = {
    "lab_order_id": "id",
    "lab_result_id": "id",
    "test_code": "str",
    "patient_id": "id",
}
_LAB = {**_LAB_RECORDED, "analyte": "str", "flag": "str", "ordered_by_id": "id"}
_LAB_LABELS = {"test_code": "Test (LOINC code)", "ordered_by_id": "Ordering doctor (user id)"}


def _appointment(name: str, text: str, **extra: str) -> None:
    register_event(
        name,
        {**_APPOINTMENT, **extra},
        text,
        aggregate="appointment_id",
        labels=_APPOINTMENT_LABELS,
    )


_appointment(
    "appointment.booked", "An appointment was booked.", kind="str", channel="str"
)  # fmt: skip
_appointment("appointment.cancelled", "A booked appointment was cancelled.", reason="str")
_appointment("appointment.checked_in", "The patient arrived and was checked in.")
_appointment("appointment.completed", "The visit's encounter was closed.")
_appointment("appointment.no_show", "The patient did not come.")
register_event(
    "encounter.closed",
    {
        "encounter_id": "id",
        "patient_id": "id",
        "appointment_id": "id",
        "practitioner_id": "id",
        "actor_id": "id",
    },
    "A doctor closed an encounter.",
    aggregate="encounter_id",
)
register_event(
    "lab_result.recorded",
    _LAB_RECORDED,
    "The laboratory entered the first result of an order.",
    aggregate="lab_order_id",
    labels=_LAB_LABELS,
)
register_event(
    "lab_result.critical",
    _LAB,
    "A result (or a correction) is outside the critical limits.",
    aggregate="lab_order_id",
    labels=_LAB_LABELS,
)
register_event(
    "prescription.created",
    {
        "prescription_id": "id",
        "patient_id": "id",
        "encounter_id": "id",
        "drug": "str",
        "prescriber_id": "id",
    },
    "A doctor prescribed a drug.",
    aggregate="patient_id",
)
register_event(
    "patient.registered",
    {"patient_id": "id", "portal_account": "bool", "actor_id": "id"},
    "A patient was registered (at reception or through the portal).",
    aggregate="patient_id",
)
register_event(
    "patient.merged",
    {"survivor": "id", "duplicate": "id", "merge_id": "id", "actor": "id"},
    "Two records of one patient were merged into the survivor.",
    aggregate="survivor",
)

register_event(
    "feedback.received",
    {
        "feedback_id": "id",
        "appointment_id": "id",
        "patient_id": "id",
        "practitioner_id": "id",
        "department_id": "id",
        "rating": "int",
        "nps": "int",
    },
    "A patient answered the feedback question about a visit.",
    aggregate="appointment_id",
)

SAMPLES = {
    "id": "1",
    "str": "Cardiology",
    "bool": True,
    "int": 1,
    "decimal": "10.00",
    "datetime": "2026-03-02T09:00:00+00:00",
}


def sample_payload(event: str) -> dict:
    """A made-up payload of the event, for dry runs and the rule builder's example."""
    from hms.core.events import CATALOGUE

    kind = CATALOGUE.get(event)
    return {name: SAMPLES.get(typ, "") for name, typ in (kind.fields.items() if kind else ())}
