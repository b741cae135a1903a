"""Which warehouse ships a delivery order, and its stock reserved there at once (docs/adr/0032).

The rule, as operators read it:
1. The warehouses that may ship an order are the active warehouse sites of the order's region, of
   the regions above it and of the regions below it, each with an active warehouse location.
2. They are ranked by straight-line distance from the delivery city: the city's coordinates come
   from CITY_COORDINATES (the large Chinese cities), else from the order's own site; a warehouse
   without coordinates, or an order whose city is unknown, ranks after the others, by name.
3. The nearest warehouse that holds every line in full ships the whole order.
4. When none does, each line is taken from the nearest warehouse that has some, then the next
   nearest, until the line is filled (the order is split; each part is an Allocation).
5. When all of them together cannot fill a line, nothing is reserved and the order is held
   ("stock"). Reservations are conditional UPDATEs (inventory.services.stock_reserve): when another
   order took the stock first, this one is held too, never over-reserved.
"""

from __future__ import annotations

import math
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Region, Site
from inventory.models import StockLevel, StockLocation
from inventory.services import InsufficientStock, stock_release, stock_reserve
from orders.models import OrderLine

# Latitude and longitude of the cities most deliveries go to; operators extend it here.
CITY_COORDINATES: dict[str, tuple[float, float]] = {
    "北京": (39.904, 116.407),
    "上海": (31.230, 121.474),
    "广州": (23.129, 113.264),
    "深圳": (22.543, 114.058),
    "杭州": (30.274, 120.155),
    "南京": (32.060, 118.797),
    "苏州": (31.299, 120.585),
    "天津": (39.343, 117.362),
    "重庆": (29.563, 106.551),
    "成都": (30.573, 104.066),
    "武汉": (30.593, 114.305),
    "西安": (34.341, 108.940),
    "长沙": (28.228, 112.939),
    "郑州": (34.747, 113.625),
    "青岛": (36.067, 120.383),
    "济南": (36.651, 117.120),
    "沈阳": (41.806, 123.432),
    "大连": (38.914, 121.615),
    "哈尔滨": (45.803, 126.535),
    "厦门": (24.480, 118.089),
    "福州": (26.074, 119.296),
    "合肥": (31.820, 117.227),
    "昆明": (24.880, 102.833),
    "宁波": (29.868, 121.544),
    "无锡": (31.491, 120.312),
    "东莞": (23.021, 113.752),
    "佛山": (23.022, 113.122),
}
_ENGLISH = {
    "beijing": "北京",
    "shanghai": "上海",
    "guangzhou": "广州",
    "shenzhen": "深圳",
    "hangzhou": "杭州",
    "nanjing": "南京",
    "chengdu": "成都",
    "wuhan": "武汉",
}


def city_point(city: str) -> tuple[float, float] | None:
    name = (city or "").strip()
    name = _ENGLISH.get(name.lower(), name)
    for suffix in ("市", "区", "县"):
        if name.endswith(suffix) and len(name) > 2:
            name = name[: -len(suffix)]
    return CITY_COORDINATES.get(name)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def _region_ids(order) -> list[int]:
    region = Region.objects.get(pk=order.region_id)
    below = Region.objects.filter(path__startswith=region.path).values_list("pk", flat=True)
    return sorted({*region.ancestor_ids(), *below})


def warehouse_levels(order):
    """Stock levels of the warehouse locations that may ship `order` (rule 1)."""
    return StockLevel.objects.filter(
        location__kind=StockLocation.Kind.WAREHOUSE,
        location__is_active=True,
        location__site__kind=Site.Kind.WAREHOUSE,
        location__site__is_active=True,
        location__site__region_id__in=_region_ids(order),
    )


def warehouses_by_distance(order, delivery) -> list[tuple[Site, float | None]]:
    """The warehouses that may ship `order`, nearest first (rule 2), with their distance in km."""
    origin = city_point(delivery.city)
    if origin is None and order.site_id:
        site = Site.objects.get(pk=order.site_id)
        if site.latitude is not None and site.longitude is not None:
            origin = (float(site.latitude), float(site.longitude))
    sites = Site.objects.filter(
        kind=Site.Kind.WAREHOUSE,
        is_active=True,
        region_id__in=_region_ids(order),
        stock_locations__kind=StockLocation.Kind.WAREHOUSE,
        stock_locations__is_active=True,
    ).distinct()
    ranked = []
    for site in sites:
        distance = None
        if origin is not None and site.latitude is not None and site.longitude is not None:
            distance = _km(origin, (float(site.latitude), float(site.longitude)))
        ranked.append((site, distance))
    ranked.sort(key=lambda pair: (pair[1] is None, pair[1] or 0, pair[0].name, pair[0].pk))
    return ranked


def allocation_plan(order, delivery, lines) -> list[tuple[OrderLine, StockLevel, int]]:
    """(line, level, quantity) to reserve, by rules 3 and 4; ValidationError("stock") by rule 5."""
    ranked = warehouses_by_distance(order, delivery)
    levels = defaultdict(dict)  # site id -> product id -> [level, free]
    for level in warehouse_levels(order).filter(product_id__in={line.product_id for line in lines}).order_by("pk"):
        free = level.quantity - level.reserved
        if free > 0:
            current = levels[level.location.site_id].get(level.product_id)
            if current is None or free > current[1]:
                levels[level.location.site_id][level.product_id] = [level, free]
    wanted = defaultdict(int)
    for line in lines:
        wanted[line.product_id] += line.quantity
    for site, _distance in ranked:
        stock = levels.get(site.pk, {})
        if all(stock.get(product, [None, 0])[1] >= quantity for product, quantity in wanted.items()):
            return [(line, stock[line.product_id][0], line.quantity) for line in lines]
    plan = []
    for line in lines:
        remaining = line.quantity
        for site, _distance in ranked:
            entry = levels.get(site.pk, {}).get(line.product_id)
            if entry is None or entry[1] <= 0:
                continue
            take = min(entry[1], remaining)
            plan.append((line, entry[0], take))
            entry[1] -= take
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise InsufficientStock(
                _("Not enough %(product)s in the warehouses to ship this order.") % {"product": line.description},
                code="not_available",
            )
    return plan


def order_allocate(*, order, delivery) -> list:
    """Reserve the order's stock by the plan, inside the caller's transaction (rolled back whole
    when any reservation is refused). Returns the Allocations made."""
    from fulfilment.models import Allocation

    lines = list(OrderLine.objects.filter(order=order).order_by("pk"))
    if any(line.product_id is None for line in lines):
        raise ValidationError(_("Every line needs a catalog product before it can be allocated."))
    made = []
    with transaction.atomic():
        for line, level, quantity in allocation_plan(order, delivery, lines):
            stock_reserve(level=level, quantity=quantity)
            made.append(Allocation.objects.create(order=order, line=line, level=level, quantity=quantity))
    return made


def order_deallocate(*, order) -> int:
    """Give back every reservation of the order still held; returns how many units."""
    from fulfilment.models import Allocation

    released = 0
    for allocation in Allocation.objects.filter(order=order, state=Allocation.State.RESERVED).select_for_update():
        stock_release(level=allocation.level, quantity=allocation.quantity)
        allocation.state = Allocation.State.RELEASED
        allocation.save(update_fields=["state"])
        released += allocation.quantity
    return released
