"""Parameters operators edit per region (ADR 16).

A typed registry: each `Setting` has a key, a type, a default read from Django settings (which stay
the deployment's defaults), an allowed range and a translatable label. A region's value is a
`RegionSetting` row; a region without its own row inherits its nearest ancestor's, and the root
without one uses the default. Services read `region_setting(key, region)`, never Django settings.

Resolved values are cached for a short time under a generation number that every change bumps
(`region_setting_set` / `region_setting_reset`), so an edit is seen at once by every process that
shares the cache (Redis in the distributed setup) and within SETTINGS_CACHE_SECONDS elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CACHE_SECONDS = 60
GENERATION_KEY = "region-settings:generation"


@dataclass(frozen=True)
class Setting:
    key: str
    section: str
    label: str
    help: str
    kind: type  # int or Decimal
    default: Callable[[], object]
    minimum: object
    maximum: object
    places: int = 2  # Decimal settings: digits after the point

    def parse(self, raw) -> int | Decimal:
        """The value typed in, checked; a ValidationError says the allowed range."""
        text = str(raw if raw is not None else "").strip()
        try:
            if self.kind is int:
                value = int(text)
            else:
                value = Decimal(text)
                if not value.is_finite():
                    raise InvalidOperation
        except (ValueError, InvalidOperation):
            raise ValidationError(self.range_message(), code="invalid") from None
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(self.range_message(), code="range")
        if self.kind is Decimal:
            if value != value.quantize(Decimal(1).scaleb(-self.places)):
                raise ValidationError(
                    _("%(label)s takes at most %(places)s digits after the point.")
                    % {"label": self.label, "places": self.places},
                    code="places",
                )
        return value

    def range_message(self) -> str:
        return _("%(label)s must be a number from %(minimum)s to %(maximum)s.") % {
            "label": self.label,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }

    def to_json(self, value) -> str | int:
        return value if self.kind is int else str(value)

    def from_json(self, stored) -> int | Decimal:
        return int(stored) if self.kind is int else Decimal(str(stored))

    def default_value(self) -> int | Decimal:
        return self.from_json(self.default())


REGISTRY: dict[str, Setting] = {}


def register(setting: Setting) -> Setting:
    REGISTRY[setting.key] = setting
    return setting


POINTS = _("Points")
PAYMENTS = _("Payment fees")
STOCK = _("Stock")
LOCKERS = _("Lockers")
RENTALS = _("Rentals")

register(
    Setting(
        key="points.earned_per_unit",
        section=POINTS,
        label=_("Points earned per 1.00 spent"),
        help=_("Before the member level's multiplier; 0 earns nothing."),
        kind=Decimal,
        default=lambda: getattr(settings, "POINTS_EARNED_PER_UNIT", "1"),
        minimum=Decimal("0"),
        maximum=Decimal("100"),
    )
)
register(
    Setting(
        key="points.per_unit_redeemed",
        section=POINTS,
        label=_("Points that pay 1.00"),
        help=_("How many points a member spends for 1.00 of a purchase."),
        kind=int,
        default=lambda: getattr(settings, "POINTS_PER_UNIT_REDEEMED", 100),
        minimum=1,
        maximum=100000,
    )
)

# One fee rate per payment method; the defaults are PAYMENT_FEE_RATES.
FEE_METHODS = {
    "cash": _("Cash"),
    "card": _("Card"),
    "alipay": _("Alipay"),
    "wechat": _("WeChat Pay"),
    "stripe": _("Stripe"),
    "wallet": _("Wallet balance"),
    "points": _("Points"),
}


def _fee_default(method: str) -> Callable[[], str]:
    return lambda: str((getattr(settings, "PAYMENT_FEE_RATES", {}) or {}).get(method, "0"))


def _fee_label(name) -> str:
    return gettext("Fee rate: %(method)s") % {"method": name}


_fee_label_lazy = lazy(_fee_label, str)


for _method, _name in FEE_METHODS.items():
    register(
        Setting(
            key=f"fees.{_method}",
            section=PAYMENTS,
            label=_fee_label_lazy(_name),
            help=_("A share of the amount: 0.0038 is 0.38 percent. Recorded on each payment when it settles."),
            kind=Decimal,
            default=_fee_default(_method),
            minimum=Decimal("0"),
            maximum=Decimal("0.1"),
            places=4,
        )
    )

register(
    Setting(
        key="stock.low_threshold",
        section=STOCK,
        label=_("Default low-stock threshold"),
        help=_("A new slot or shelf alerts at this quantity unless it is given its own threshold."),
        kind=int,
        default=lambda: getattr(settings, "LOW_STOCK_THRESHOLD", 0),
        minimum=0,
        maximum=1000,
    )
)
# Delivery orders' returns (docs/adr/0034): refund when the parcel is back (0) or at once (1).
register(
    Setting(
        key="returns.refund_at_once",
        section=STOCK,
        label=_("Refund returns at once"),
        help=_("1 refunds a return when it is requested; 0 waits until the warehouse has received it."),
        kind=int,
        default=lambda: getattr(settings, "RETURNS_REFUND_AT_ONCE", 0),
        minimum=0,
        maximum=1,
    )
)
register(
    Setting(
        key="lockers.free_hours",
        section=LOCKERS,
        label=_("Free storage (hours)"),
        help=_("For locker banks without their own storage rule."),
        kind=int,
        default=lambda: settings.LOCKER_FREE_HOURS,
        minimum=0,
        maximum=720,
    )
)
register(
    Setting(
        key="lockers.overdue_fee_per_day",
        section=LOCKERS,
        label=_("Storage fee per started day after that"),
        help=_("For locker banks without their own storage rule."),
        kind=Decimal,
        default=lambda: settings.LOCKER_OVERDUE_FEE_PER_DAY,
        minimum=Decimal("0"),
        maximum=Decimal("1000"),
    )
)

PICKUP = _("Pickup codes")
register(
    Setting(
        key="pickup.uncollected_grace_hours",
        section=PICKUP,
        label=_("Hours after a pickup code expired before the order ends as not collected"),
        help=_("Until then staff can send a new code; after it the store's staff are told to put the goods back."),
        kind=int,
        default=lambda: settings.PICKUP_UNCOLLECTED_GRACE_HOURS,
        minimum=0,
        maximum=720,
    )
)

DELIVERIES = _("Delivery orders")
register(
    Setting(
        key="fulfilment.price_tolerance",
        section=DELIVERIES,
        label=_("Price tolerance against the catalog (%)"),
        help=_("A delivery order line priced further than this from the catalog price is held for a person."),
        kind=Decimal,
        default=lambda: getattr(settings, "DELIVERY_PRICE_TOLERANCE_PERCENT", "20"),
        minimum=Decimal("0"),
        maximum=Decimal("100"),
    )
)
register(
    Setting(
        key="fulfilment.duplicate_hours",
        section=DELIVERIES,
        label=_("Duplicate window (hours)"),
        help=_(
            "A delivery order for the same recipient, phone and lines as another within this many hours "
            "is held as a possible duplicate; 0 turns the check off."
        ),
        kind=int,
        default=lambda: getattr(settings, "DELIVERY_DUPLICATE_HOURS", 24),
        minimum=0,
        maximum=720,
    )
)


def _booking_price_default(size: str) -> Callable[[], str]:
    return lambda: str((getattr(settings, "LOCKER_BOOKING_PRICES", {}) or {}).get(size, "5.00"))


def _booking_price_label(name) -> str:
    return gettext("Booking price in the app: %(size)s compartment") % {"size": name}


_booking_price_label_lazy = lazy(_booking_price_label, str)
LOCKER_SIZES = {"S": _("Small"), "M": _("Medium"), "L": _("Large"), "XL": _("Extra large")}

for _size, _name in LOCKER_SIZES.items():
    register(
        Setting(
            key=f"lockers.booking_price.{_size}",
            section=LOCKERS,
            label=_booking_price_label_lazy(_name),
            help=_("What a customer pays in the app to book a compartment of this size to send or store a parcel."),
            kind=Decimal,
            default=_booking_price_default(_size),
            minimum=Decimal("0.01"),
            maximum=Decimal("1000"),
        )
    )

register(
    Setting(
        key="rentals.default_deposit",
        section=RENTALS,
        label=_("Default rental deposit"),
        help=_("Offered to a new rate plan of the region that gives no deposit of its own."),
        kind=Decimal,
        default=lambda: getattr(settings, "LEASE_DEFAULT_DEPOSIT", "0"),
        minimum=Decimal("0"),
        maximum=Decimal("100000"),
    )
)


def setting_get(key: str) -> Setting:
    try:
        return REGISTRY[key]
    except KeyError:
        raise ValidationError(_("There is no setting %(key)s.") % {"key": key}) from None


def _generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = 1
        cache.add(GENERATION_KEY, generation, None)
    return generation


def _bump() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, None)


def _region_id(region) -> int | None:
    if region is None:
        return None
    return region if isinstance(region, int) else region.pk


def region_setting_source(key: str, region) -> tuple[int | Decimal, int | None]:
    """(the effective value, the id of the region it is set on, or None for the default)."""
    setting = setting_get(key)
    region_id = _region_id(region)
    if region_id is None:
        return setting.default_value(), None
    cache_key = f"region-settings:{_generation()}:{region_id}:{key}"
    cached = cache.get(cache_key)
    if cached is not None:
        return setting.from_json(cached[0]), cached[1]
    from core.models import Region, RegionSetting

    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first() or ""
    ancestors = [int(part) for part in path.strip("/").split("/") if part]
    rows = dict(RegionSetting.objects.filter(region_id__in=ancestors, key=key).values_list("region_id", "value"))
    value, source = setting.to_json(setting.default_value()), None
    for ancestor in reversed(ancestors):  # the nearest region with its own value
        if ancestor in rows:
            value, source = rows[ancestor], ancestor
            break
    cache.set(cache_key, (value, source), CACHE_SECONDS)
    return setting.from_json(value), source


def region_setting(key: str, region) -> int | Decimal:
    """The value of setting `key` in `region` (a Region, its id, or None for the default)."""
    return region_setting_source(key, region)[0]


def region_setting_set(*, actor, region, key: str, raw):
    """Give `region` its own value of `key` (its sub-regions inherit it unless they override it)."""
    from core.models import RegionSetting
    from core.services import audit_record

    setting = setting_get(key)
    value = setting.parse(raw)
    before, _source = region_setting_source(key, region)
    with transaction.atomic():
        row, _created = RegionSetting.objects.update_or_create(
            region=region, key=key, defaults={"value": setting.to_json(value)}
        )
        audit_record(
            actor=actor,
            action="region_setting.set",
            obj=row,
            changes={key: [str(before), str(value)]},
            region=region,
        )
        transaction.on_commit(_bump)
    _bump()
    return value


def region_setting_reset(*, actor, region, key: str) -> bool:
    """Drop `region`'s own value of `key`: it inherits again. False if it had none."""
    from core.models import RegionSetting
    from core.services import audit_record

    setting_get(key)
    row = RegionSetting.objects.filter(region=region, key=key).first()
    if row is None:
        return False
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="region_setting.reset",
            obj=row,
            changes={key: [str(row.value), ""]},
            region=region,
        )
        row.delete()
        transaction.on_commit(_bump)
    _bump()
    return True
