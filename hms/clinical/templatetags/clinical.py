from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def vital(vitals, field: str):
    """A vital sign's value, marked when it is outside the adult reference range."""
    value = getattr(vitals, field)
    if value is None:
        return "–"
    flag = (vitals.flags or {}).get(field)
    if not flag:
        return format_html("{}", value)
    return format_html(
        '<span class="text-danger fw-semibold" data-flag="{}">{} {}</span>',
        flag,
        value,
        "↑" if flag == "high" else "↓",
    )


@register.filter
def written_by(note, user) -> bool:
    """`{% if note|written_by:user %}`: the note's own rule, for a template."""
    return note.written_by(user)
