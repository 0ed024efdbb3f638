"""What feedback does when scheduling announces something (wired in FeedbackConfig.ready)."""

from django.db import transaction

from hms.core.events import subscribe
from hms.feedback.services import feedback_request


@subscribe("appointment.completed")
def on_appointment_completed(*, appointment_id, **_):
    # After the visit's own transaction: a failure to ask never undoes the completed visit.
    transaction.on_commit(lambda: feedback_request(appointment_id=appointment_id))
