"""The rule builder's rows: conditions and actions arrive as parallel lists of fields (one row
per index), so staff add rows without any script. Blank rows are ignored."""

from django.http import QueryDict


def _row(data: QueryDict, prefix: str, names: tuple[str, ...]) -> list[dict]:
    columns = {name: data.getlist(f"{prefix}_{name}") for name in names}
    count = max((len(values) for values in columns.values()), default=0)
    return [
        {name: (values[i].strip() if i < len(values) else "") for name, values in columns.items()}
        for i in range(count)
    ]


CONDITION_COLUMNS = ("field", "op", "value")
ACTION_COLUMNS = (
    "type", "target", "title", "body", "template", "due_minutes", "delay_minutes",
    "after_field", "only_if_status", "url", "secret", "name",
)  # fmt: skip


def conditions_from(data: QueryDict) -> list[dict]:
    rows = _row(data, "cond", CONDITION_COLUMNS)
    return [r for r in rows if r["field"]]


def actions_from(data: QueryDict) -> list[dict]:
    """`target` reads "role:nurse", "user:someone@hospital" or "field:ordered_by_id"."""
    actions = []
    for row in _row(data, "act", ACTION_COLUMNS):
        if not row["type"]:
            continue
        action = {"type": row.pop("type")}
        target = row.pop("target")
        kind, _, value = target.partition(":")
        if kind in ("role", "user") and value:
            action[kind] = value
        elif kind == "field" and value:
            action["user_field"] = value
        if row["only_if_status"]:
            row["only_if_status"] = [s.strip() for s in row["only_if_status"].split(",")]
        action.update({key: value for key, value in row.items() if value})
        actions.append(action)
    return actions


def target_of(action: dict) -> str:
    if action.get("role"):
        return f"role:{action['role']}"
    if action.get("user_field"):
        return f"field:{action['user_field']}"
    if action.get("user"):
        return f"user:{action['user']}"
    return ""
