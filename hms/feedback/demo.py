"""Demo feedback and Contact Us: every completed demo visit asked for feedback, all but the demo
patient's answered (so the portal shows a question waiting and the dashboard has figures), and a
few messages in the inbox. Idempotent: nothing is added once there is feedback."""

from datetime import timedelta

from hms.accounts.models import User
from hms.core.demo import DemoContext
from hms.core.permissions import Role
from hms.feedback.models import ContactMessage, VisitFeedback
from hms.feedback.services import contact_message_submit, contact_note_add, feedback_request
from hms.scheduling.models import Appointment, AppointmentStatus

COMMENTS = [
    "Seen on time and everything was explained clearly.",
    "The nurse was lovely, the waiting room was cold.",
    "Long wait at reception, but the doctor was very thorough.",
    "",
    "Parking was difficult to find.",
    "Thank you for listening.",
]
MESSAGES = [
    ("Ada Lovelace", "ada@example.org", "", "appointments",
     "Can I bring my carer to my appointment next week?"),
    ("Tom Hardy", "", "+44 7700 900123", "billing",
     "I received an invoice I don't understand, could someone call me?"),
    ("Mary Seacole", "mary@example.org", "", "compliment",
     "The staff on the ward were wonderful to my father. Thank you."),
]  # fmt: skip


def seed(ctx: DemoContext) -> None:
    if VisitFeedback.objects.exists():
        return
    completed = Appointment.objects.filter(status=AppointmentStatus.COMPLETED).select_related(
        "patient__user"
    )
    for appointment in completed:
        feedback = feedback_request(appointment_id=appointment.pk)
        if feedback is None or appointment.patient.user_id is not None:
            continue  # the demo patient's visit waits for their answer
        VisitFeedback.objects.filter(pk=feedback.pk).update(
            answered_at=appointment.end + timedelta(hours=ctx.rng.randint(2, 48)),
            rating=ctx.rng.choice([3, 4, 4, 5, 5, 2]),
            nps=ctx.rng.choice([10, 9, 9, 8, 7, 6, 3]),
            comment=ctx.rng.choice(COMMENTS),
        )
    if ContactMessage.objects.exists():
        return
    clerk = User.objects.filter(role=Role.RECEPTIONIST, is_active=True).first()
    for name, email, phone, topic, message in MESSAGES:
        contact = contact_message_submit(
            name=name, email=email, phone=phone, topic=topic, message=message
        )
        if clerk is not None and topic == "compliment":
            contact_note_add(
                actor=clerk, contact_id=contact.pk, reply=True,
                body="Thank you for your kind words: we have passed them on to the ward team.",
            )  # fmt: skip
