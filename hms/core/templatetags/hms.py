from django import forms, template

from hms.core.permissions import Perm, user_has_perm

register = template.Library()

_CHECKS = (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)


@register.filter
def bs_field(field):
    """Render a bound field with Bootstrap classes and its errors/help tied by aria attributes."""
    widget = field.field.widget
    if isinstance(widget, _CHECKS):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    attrs = {"class": css + (" is-invalid" if field.errors else "")}
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        attrs["aria-invalid"] = "true"
        described.append(f"{field.auto_id}_error")
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def can(user, perm: str) -> bool:
    """`{% if user|can:"patients.register" %}`: show a link or button only to roles that may use
    it. An unknown permission name is a ValueError, not a silent False."""
    return user_has_perm(user, Perm(perm))
