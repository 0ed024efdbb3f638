"""`{% url %}` through `hms.core.links.link`: the same tag, its links remembered per process.

Installed as a template builtin (settings.TEMPLATES), so every template's `{% url %}` uses it
without a `{% load %}`; everything else about the tag (arguments, `as var`, errors) is Django's.
The request's URLconf and script prefix are read once per request, not once per link.
"""

from django import template
from django.template import defaulttags
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from hms.core.links import link, link_scope

register = template.Library()


class LinkNode(defaulttags.URLNode):
    def render(self, context):
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        scope = link_scope(request)
        try:
            url = link(
                self.view_name.resolve(context),
                [arg.resolve(context) for arg in self.args],
                {name: value.resolve(context) for name, value in self.kwargs.items()},
                current_app,
                scope,
            )
        except NoReverseMatch:
            if self.asvar is None:
                raise
            url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return LinkNode(node.view_name, node.args, node.kwargs, node.asvar)
