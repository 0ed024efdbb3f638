"""`{% remember value ... %}...{% endremember %}`: a fragment rendered once per process for each
set of values it is given, then repeated.

For fragments that are a pure function of the values named (and of the active language and time
zone, and the request's URLconf and script prefix, for their links): a role's menu, the
dashboard's cards with their counts. Every
page renders them and each variable a template prints costs a few dozen Python calls. Anything
the fragment prints must come from the values named: nothing else is looked at again (no CSRF
token, no user, no time). Installed as a template builtin (settings.TEMPLATES).
"""

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from hms.core.links import link_scope

register = template.Library()

LIMIT = 5_000  # fragments kept per process; all are forgotten at once when full
# key -> (the node, its output): holding the node keeps its id, part of the key, from being
# given to another node once a template is reloaded.
_fragments: dict[tuple, tuple[template.Node, str]] = {}


def _frozen(value):
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


class RememberNode(template.Node):
    def __init__(self, nodelist, values):
        self.nodelist, self.values = nodelist, values

    def render(self, context):
        key = (
            id(self),
            context.autoescape,
            link_scope(getattr(context, "request", None)),
            get_language(),
            timezone.get_current_timezone_name(),
            tuple(_frozen(value.resolve(context)) for value in self.values),
        )
        try:
            remembered = _fragments.get(key)
        except TypeError:  # a value that cannot be a key (a list inside an object): not kept
            return self.nodelist.render(context)
        if remembered is None:
            if len(_fragments) >= LIMIT:
                _fragments.clear()
            remembered = _fragments[key] = (self, self.nodelist.render(context))
        return mark_safe(remembered[1])  # noqa: S308 (rendered by the template engine, escaped there)


@register.tag
def remember(parser, token):
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endremember",))
    parser.delete_first_token()
    return RememberNode(nodelist, values)
