"""`{{ event.action|label:"order.action" }}`: a stored code in the reader's language (core.labels)."""

from django import template

from core.labels import label as label_of

register = template.Library()


@register.filter
def label(code, domain):
    return label_of(domain, code)
