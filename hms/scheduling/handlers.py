"""What scheduling does when other apps announce something (wired in SchedulingConfig.ready)."""

from hms.core.events import subscribe
from hms.scheduling import services


@subscribe("encounter.started")
def on_encounter_started(*, encounter=None, appointment_id=None, actor=None, **_):
    if appointment_id:
        services.appointment_start_consultation(
            actor=actor, appointment_id=appointment_id, encounter=encounter
        )


@subscribe("encounter.completed")
def on_encounter_completed(*, encounter=None, appointment_id=None, actor=None, **_):
    if appointment_id:
        services.appointment_complete(
            actor=actor, appointment_id=appointment_id, encounter=encounter
        )


@subscribe("patient.merged")
def on_patient_merged(*, merge, actor=None, **_):
    services.appointments_move_for_merge(actor=actor, merge=merge)


@subscribe("patient.unmerged")
def on_patient_unmerged(*, merge, actor=None, **_):
    services.appointments_move_back_for_unmerge(actor=actor, merge=merge)
