"""`{{ amount|at_places:read.currency_decimals }}`: a DEX amount at the machine's own precision."""

from django import template

from gateway.models import at_places as _at_places

register = template.Library()


@register.filter
def at_places(value, places):
    if value is None or value == "":
        return "—"
    return _at_places(value, int(places))
