"""`{{ amount|money }}`, `{{ count|figure }}`, `{{ change|delta }}`: numbers in the reader's language.

Money always shows two decimals (an aggregate over SQLite can come back as `2702.75000000000`),
grouped the way the active language groups digits; the currency is the deployment's one.
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()
CENT = Decimal("0.01")
EMPTY = "—"


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


@register.filter
def money(value):
    """Two decimals, grouped in the active language: 2702.75000000000 -> 2,702.75."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return EMPTY
    return number_format(amount.quantize(CENT), decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def figure(value):
    """A count or measure: whole numbers grouped, fractions with at most two decimals."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return EMPTY
    if amount == amount.to_integral_value():
        return number_format(int(amount), use_l10n=True, force_grouping=True)
    return number_format(amount.quantize(CENT), decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def delta(value):
    """A change in percent with its sign: +12.5 %, −3.0 %; a dash when there is no base."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    return f"{sign}{number_format(abs(amount), decimal_pos=1, use_l10n=True)} %"
