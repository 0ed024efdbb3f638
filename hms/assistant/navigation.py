"""The assistant's menu entry for the staff who keep its knowledge base."""

from hms.core.navigation import MenuItem, Section, register_menu_item
from hms.core.permissions import Perm

register_menu_item(
    MenuItem("Assistant", "assistant:articles", Perm.ASSISTANT_MANAGE,
             "The patients' assistant: its knowledge base and conversation logs with ratings.",
             order=128, section=Section.PATIENT_VOICE)
)  # fmt: skip
