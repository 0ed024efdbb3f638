from hms.core.navigation import MenuItem, Section, register_menu_item
from hms.core.permissions import Perm

register_menu_item(
    MenuItem("Workflows", "workflows:rule-list", Perm.WORKFLOW_MANAGE,
             "Rules that remind, follow up and escalate; their runs.", order=130,
             section=Section.ADMINISTRATION)
)  # fmt: skip
