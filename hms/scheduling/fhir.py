"""FHIR R4 views of scheduling: Schedule, Slot and Appointment, validated by `fhir.resources`.

The mapping is one to one: our Schedule is a FHIR Schedule (actor: the practitioner), a computed
free slot is a FHIR Slot with status "free", and an Appointment is a FHIR Appointment with the
patient and the practitioner as participants. The fhir app serves these; here they are built.
"""

from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.schedule import Schedule as FhirSchedule
from fhir.resources.R4B.slot import Slot as FhirSlot

from hms.scheduling.models import Appointment, Schedule
from hms.scheduling.slots import Slot


def _iso(moment) -> str:
    return moment.isoformat()


def schedule_to_fhir(schedule: Schedule) -> FhirSchedule:
    return FhirSchedule(
        id=str(schedule.pk),
        active=schedule.is_active,
        actor=[
            {
                "reference": f"Practitioner/{schedule.practitioner_id}",
                "display": schedule.practitioner.full_name,
            }
        ],
        serviceType=[{"text": schedule.department.name}],
    )


def slot_to_fhir(slot: Slot) -> FhirSlot:
    schedule_id = Schedule.objects.filter(practitioner_id=slot.practitioner_id).values_list(
        "pk", flat=True
    )[0]
    return FhirSlot(
        id=slot.slot_id,
        schedule={"reference": f"Schedule/{schedule_id}"},
        status="free",
        start=_iso(slot.start),
        end=_iso(slot.end),
    )


def appointment_to_fhir(appointment: Appointment) -> FhirAppointment:
    return FhirAppointment(
        id=str(appointment.pk),
        status=appointment.fhir_status,
        start=_iso(appointment.start),
        end=_iso(appointment.end),
        minutesDuration=int((appointment.end - appointment.start).total_seconds() // 60),
        description=appointment.reason or None,
        cancelationReason={"text": appointment.cancel_reason}
        if appointment.cancel_reason
        else None,
        appointmentType={"text": appointment.get_kind_display()},
        serviceType=[{"text": appointment.department.name}],
        participant=[
            {
                "actor": {
                    "reference": f"Patient/{appointment.patient_id}",
                    "display": appointment.patient.full_name,
                },
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": f"Practitioner/{appointment.practitioner_id}",
                    "display": appointment.practitioner.full_name,
                },
                "status": "accepted",
            },
        ],
    )
