"""Feedback's menu entries and the inbox's count on the staff dashboard."""

from hms.core.navigation import MenuItem, Section, register_count, register_menu_item
from hms.core.permissions import Perm
from hms.feedback.models import ContactMessage, ContactStatus

register_menu_item(
    MenuItem("Feedback", "feedback:dashboard", Perm.FEEDBACK_VIEW,
             "How patients rate their visits: NPS and ratings by department and doctor.",
             order=120, section=Section.PATIENT_VOICE)
)  # fmt: skip
register_menu_item(
    MenuItem("Contact inbox", "feedback:inbox", Perm.CONTACT_MANAGE,
             "Messages sent through Contact Us: assign, answer, close.", order=125,
             section=Section.PATIENT_VOICE)
)  # fmt: skip


def _new_messages(*, user) -> str:
    count = ContactMessage.objects.filter(status=ContactStatus.NEW).count()
    return f"{count} new" if count else ""


register_count("feedback:inbox", _new_messages)
