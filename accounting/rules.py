"""Sharing rules: which rules apply to an order, what basis they share, the 100 % check when a
rule is saved, and versioning (a change ends the current version and starts the next; accruals
keep pointing at the version they were computed with). Posting shares is accounting/accruals.py.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.ledger import label
from accounting.models import ZERO, SharingRule
from orders.models import OrderKind

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# Enough to find every combination of rules that can meet on one order in a realistic rule set
# (dozens of rules per region); a larger set is checked only this deep.
MAX_MEET_ROUNDS = 6
FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.UTC)
FAR_PAST = datetime.datetime.min.replace(tzinfo=datetime.UTC)

# --- Matching an order ------------------------------------------------------------------------


def line_matches(rule: SharingRule, line) -> bool:
    if rule.product_id and line.product_id != rule.product_id:
        return False
    if rule.category_id and (line.product is None or line.product.category_id != rule.category_id):
        return False
    return True


def rule_matches_order(rule: SharingRule, order) -> bool:
    if rule.order_kind and rule.order_kind != order.kind:
        return False
    if rule.region_id and not order.region.path.startswith(rule.region.path):
        return False
    if rule.site_id and rule.site_id != order.site_id:
        return False
    if rule.device_id and rule.device_id != order.device_id:
        return False
    return True


def rules_for(order, at) -> list[SharingRule]:
    """Every rule version in force at `at` whose scope covers the order (line scopes are applied
    when the basis is computed)."""
    candidates = (
        SharingRule.objects.filter(valid_from__lte=at, partner__is_active=True)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=at))
        .select_related("region", "partner")
        .order_by("pk")
    )
    return [rule for rule in candidates if rule_matches_order(rule, order)]


@dataclass(frozen=True)
class OrderFigures:
    paid: Decimal
    refunded: Decimal
    fees: Decimal
    lines_total: Decimal
    matched_total: Decimal
    matched_cost: Decimal
    units: int

    @property
    def fraction(self) -> Decimal:
        if self.lines_total <= 0:
            return Decimal(1)
        return self.matched_total / self.lines_total

    def basis(self, kind: str) -> Decimal:
        """What a rule shares at payment. Refunds are not taken off here: every refund, before or
        after the accrual, reverses the shares on the bases net of refunds in proportion
        (accounting/accruals.py), so none is counted twice; a gross share is never reversed."""
        net = self.paid
        value = {
            SharingRule.Basis.GROSS: self.paid * self.fraction,
            SharingRule.Basis.NET_REFUNDS: net * self.fraction,
            SharingRule.Basis.NET_FEES: (net - self.fees) * self.fraction,
            SharingRule.Basis.PROFIT: (net - self.fees) * self.fraction - self.matched_cost,
        }[kind]
        return max(ZERO, value.quantize(CENT, rounding=ROUND_HALF_UP))

    def as_json(self, basis_kind: str) -> dict:
        return {
            "paid": str(self.paid),
            "refunded": str(self.refunded),
            "fees": str(self.fees),
            "lines_total": str(self.lines_total),
            "matched_total": str(self.matched_total),
            "matched_cost": str(self.matched_cost),
            "units": self.units,
            "basis": basis_kind,
        }


def order_figures(order, rule: SharingRule, lines, fees: Decimal) -> OrderFigures | None:
    """The order's figures seen by `rule`; None when a product or category rule matches no line."""
    matched = [line for line in lines if line_matches(rule, line)]
    if (rule.product_id or rule.category_id) and not matched:
        return None
    lines_total = sum((line.line_total for line in lines), ZERO)
    return OrderFigures(
        paid=order.paid_amount,
        refunded=order.refunded_amount,
        fees=fees,
        lines_total=lines_total,
        matched_total=sum((line.line_total for line in matched), ZERO) if lines else ZERO,
        matched_cost=sum((line.cost_price * line.quantity for line in matched), ZERO),
        units=sum(line.quantity for line in matched) if lines else 1,
    )


def tiered_share(*, before: Decimal, basis: Decimal, rate: Decimal, tiers: list[dict]) -> Decimal:
    """The share of `basis` when the partner's month under this rule already reached `before`:
    each part of the basis above a tier's amount earns that tier's percentage (marginal, like tax
    bands), the rest the rule's own percentage."""
    bands = [(ZERO, rate)] + sorted((Decimal(t["above"]), Decimal(t["rate"])) for t in tiers or [])
    start, end, share = before, before + basis, Decimal(0)
    for index, (lower, band_rate) in enumerate(bands):
        upper = bands[index + 1][0] if index + 1 < len(bands) else None
        low = max(start, lower)
        high = end if upper is None else min(end, upper)
        if high > low:
            share += (high - low) * band_rate / HUNDRED
    return share.quantize(CENT, rounding=ROUND_HALF_UP)


# --- The 100 % check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    region_path: str
    site_id: int | None
    device_id: int | None
    kind: str
    category_id: int | None
    product_id: int | None
    start: object
    end: object


def _scope(rule: SharingRule) -> Scope | None:
    region_path = rule.region.path if rule.region_id else ""
    site_id = rule.site_id
    if rule.device_id:
        device_site = rule.device.site
        if site_id and site_id != device_site.pk:
            return None
        site_id = device_site.pk
    if site_id:
        from core.models import Site

        site_path = Site.objects.select_related("region").get(pk=site_id).region.path
        if region_path and not site_path.startswith(region_path):
            return None
        region_path = site_path
    category_id = rule.category_id
    if rule.product_id:
        product_category = rule.product.category_id
        if category_id and product_category != category_id:
            return None
        category_id = product_category
    return Scope(
        region_path=region_path,
        site_id=site_id,
        device_id=rule.device_id,
        kind=rule.order_kind,
        category_id=category_id,
        product_id=rule.product_id,
        start=rule.valid_from or FAR_PAST,
        end=rule.valid_until or FAR_FUTURE,
    )


def _same_or_open(a, b):
    if a and b and a != b:
        raise ValueError
    return a or b


def _meet(a: Scope, b: Scope) -> Scope | None:
    """The orders both scopes cover, as a scope; None when no order is in both."""
    try:
        if a.region_path.startswith(b.region_path):
            region_path = a.region_path
        elif b.region_path.startswith(a.region_path):
            region_path = b.region_path
        else:
            return None
        start, end = max(a.start, b.start), min(a.end, b.end)
        if start >= end:
            return None
        return Scope(
            region_path=region_path,
            site_id=_same_or_open(a.site_id, b.site_id),
            device_id=_same_or_open(a.device_id, b.device_id),
            kind=_same_or_open(a.kind, b.kind),
            category_id=_same_or_open(a.category_id, b.category_id),
            product_id=_same_or_open(a.product_id, b.product_id),
            start=start,
            end=end,
        )
    except ValueError:
        return None


def _covers(rule_scope: Scope, witness: Scope) -> bool:
    return _meet(rule_scope, witness) == witness


def _top_rate(rule: SharingRule) -> Decimal:
    return max([rule.rate] + [Decimal(t["rate"]) for t in rule.tiers or []])


def _scope_text(scope: Scope) -> str:
    from catalog.models import Category, Product
    from core.models import Region, Site
    from devices.models import Device

    parts = []
    if scope.device_id:
        parts.append(str(Device.objects.get(pk=scope.device_id)))
    elif scope.site_id:
        parts.append(str(Site.objects.get(pk=scope.site_id)))
    elif scope.region_path:
        parts.append(str(Region.objects.filter(path=scope.region_path).first() or ""))
    if scope.product_id:
        parts.append(str(Product.objects.get(pk=scope.product_id)))
    elif scope.category_id:
        parts.append(str(Category.objects.get(pk=scope.category_id)))
    return " · ".join(parts) or _("every site")


def rules_check_total(rule: SharingRule) -> None:
    """Refuse `rule` if, with the rules already saved, some order could have more than 100 % of
    one basis shared out (periods count: a version that ended before this one starts never meets
    it)."""
    if rule.method != SharingRule.Method.PERCENT:
        return
    own = _scope(rule)
    if own is None:
        raise ValidationError(_("This rule's site, device, region, category and product never meet on one order."))
    others = (
        SharingRule.objects.filter(method=SharingRule.Method.PERCENT, basis=rule.basis)
        .exclude(pk=rule.pk)
        .select_related("region", "device__site", "product")
    )
    scoped = [(other, _scope(other)) for other in others]
    scoped = [(other, scope) for other, scope in scoped if scope is not None and _meet(own, scope) is not None]
    witnesses = {own}
    for _round in range(MAX_MEET_ROUNDS):
        grown = set(witnesses)
        for witness, (_other, scope) in itertools.product(list(witnesses), scoped):
            met = _meet(witness, scope)
            if met is not None:
                grown.add(met)
        if grown == witnesses:
            break
        witnesses = grown
    for witness in sorted(witnesses, key=lambda w: (w.region_path, str(w))):
        total = _top_rate(rule) + sum((_top_rate(other) for other, scope in scoped if _covers(scope, witness)), ZERO)
        if total > HUNDRED:
            kind = dict(OrderKind.choices).get(witness.kind) if witness.kind else _("every kind of")
            raise ValidationError(
                _(
                    "Together with the rules already in force, %(kind)s orders at %(scope)s would share "
                    "%(total)s%% of the %(basis)s basis; at most 100%% can be shared."
                )
                % {
                    "kind": kind,
                    "scope": _scope_text(witness),
                    "total": f"{total.normalize():f}",
                    "basis": rule.get_basis_display(),
                }
            )


# --- Saving and versioning ---------------------------------------------------------------------

RULE_FIELDS = (
    "partner",
    "region",
    "site",
    "device",
    "order_kind",
    "category",
    "product",
    "basis",
    "method",
    "rate",
    "amount",
    "tiers",
    "valid_from",
    "valid_until",
)


def _validate_terms(rule: SharingRule) -> None:
    if rule.method == SharingRule.Method.PERCENT:
        if not ZERO < rule.rate <= HUNDRED:
            raise ValidationError({"rate": _("A percentage between 0 and 100 is needed.")})
        for tier in rule.tiers or []:
            if not (Decimal(tier["above"]) > 0 and ZERO < Decimal(tier["rate"]) <= HUNDRED):
                raise ValidationError({"tiers": _("Each tier needs an amount above zero and a percentage up to 100.")})
    else:
        if rule.amount <= 0:
            raise ValidationError({"amount": _("A fixed amount above zero is needed.")})
        if rule.tiers:
            raise ValidationError({"tiers": _("Volume tiers apply to percentages only.")})
    if rule.valid_until and rule.valid_until <= rule.valid_from:
        raise ValidationError({"valid_until": _("The rule must end after it starts.")})


@transaction.atomic
def rule_create(*, actor, **fields) -> SharingRule:
    fields = {key: value for key, value in fields.items() if key in RULE_FIELDS}
    fields.setdefault("valid_from", timezone.now())
    rule = SharingRule(**fields, version=1, created_by=label(actor))
    _validate_terms(rule)
    _lock_rule_table()
    rules_check_total(rule)
    last = SharingRule.objects.aggregate(top=Max("pk"))["top"] or 0
    rule.code = f"R{last + 1:05d}"
    rule.save()
    return rule


@transaction.atomic
def rule_change(*, rule: SharingRule, actor, effective_from=None, **fields) -> SharingRule:
    """End `rule` at `effective_from` (now by default) and start its next version with `fields`
    changed. Accruals already made keep the version they used."""
    current = SharingRule.objects.select_for_update().get(pk=rule.pk)
    if current.valid_until is not None and current.valid_until <= timezone.now():
        raise ValidationError(_("This version has ended; change the rule's current version."))
    if SharingRule.objects.filter(code=current.code, version__gt=current.version).exists():
        raise ValidationError(_("A newer version of this rule exists; change that one."))
    effective_from = effective_from or timezone.now()
    if effective_from < current.valid_from:
        effective_from = current.valid_from
    from accounting.models import Accrual

    if Accrual.objects.filter(rule__code=current.code, order__paid_at__gte=effective_from).exists():
        # The new version would cover orders already shared under the current one: a late or
        # repeated task could then share them twice.
        raise ValidationError(
            {
                "effective_from": _(
                    "Orders paid after this time were already shared under this rule; choose a later time."
                )
            }
        )
    new = SharingRule(
        **{key: getattr(current, key) for key in RULE_FIELDS},
        code=current.code,
        version=current.version + 1,
        created_by=label(actor),
    )
    for key, value in fields.items():
        if key in RULE_FIELDS:
            setattr(new, key, value)
    new.valid_from = effective_from
    if "valid_until" not in fields:
        new.valid_until = current.valid_until
    _validate_terms(new)
    _lock_rule_table()
    # Checked against the rules as they will be: the current version ends where this one starts.
    current.valid_until = effective_from
    current.save(update_fields=["valid_until"])
    rules_check_total(new)
    new.save()
    return new


def _lock_rule_table() -> None:
    """Two rules saved at once could each pass the 100 % check alone; saving rules is rare, so
    they are saved one at a time (a lock on the oldest rule row; none exists for the first)."""
    first = SharingRule.objects.order_by("pk").values_list("pk", flat=True).first()
    if first is not None:
        list(SharingRule.objects.select_for_update().filter(pk=first).values_list("pk", flat=True))


def parse_tiers(text: str) -> list[dict]:
    """ "10000:12, 20000:15" -> [{"above": "10000.00", "rate": "12.0000"}, ...]"""
    tiers = []
    for part in (text or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            above, rate = (piece.strip() for piece in part.split(":"))
            tiers.append(
                {"above": str(Decimal(above).quantize(CENT)), "rate": str(Decimal(rate).quantize(Decimal("0.0001")))}
            )
        except Exception:
            raise ValidationError(
                {"tiers": _("Write tiers as amount:percentage, separated by commas, e.g. 10000:12, 20000:15.")}
            ) from None
    return sorted(tiers, key=lambda t: Decimal(t["above"]))


def tiers_text(tiers: list[dict]) -> str:
    return ", ".join(f"{t['above']}:{Decimal(t['rate']).normalize():f}" for t in tiers or [])
