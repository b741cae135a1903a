"""Demo delivery orders (issue 21), made through the services as a person would make them: stock
received into two warehouses (Shanghai's, and one in Shenzhen so the nearest-warehouse and split
rules show), orders entered in the console and imported from a Taobao and a JD export
(fulfilment/demo_files/, in the presets' layouts), verified and allocated, picked and packed by
scans, one cancelled, some shipped. Every state a delivery order goes through has rows:

- held for a person: a bad phone, a price outside the tolerance (entered and imported);
- allocated (stock reserved), picking (half the items scanned), packed, cancelled (released);
- shipped (a waybill, a tracking step), delivered, returned (one item intact, one damaged).

Each step writes stock movements and order events like the pages do, so the invariants hold: a
level's quantity is the sum of its movements, and its reserved count is the sum of its RESERVED
allocations' quantity - picked."""

import uuid
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from catalog.models import Product
from core.models import Site
from fulfilment import returns, shipping
from fulfilment.carriers import TrackingUpdate
from fulfilment.imports import PRESETS, orders_import
from fulfilment.models import PlatformMapping
from fulfilment.orders import DeliveryLine, delivery_cancel, delivery_create
from fulfilment.packing import pack_scan, picking_start
from inventory.models import StockLocation
from inventory.services import level_for, stock_move

FILES = Path(__file__).parent / "demo_files"

# What each warehouse received (SKU → units). Shenzhen's holds fewer kinds: an order of a product
# only Shanghai has ships from Shanghai; the umbrellas are short in both (the split order).
RECEIVED = {
    "sh-warehouse": {
        "DRI-001": 40,
        "DRI-002": 30,
        "DRI-003": 30,
        "DRI-004": 30,
        "DRI-005": 10,
        "SNA-001": 30,
        "SNA-002": 30,
        "SNA-006": 30,
        "DAI-001": 30,
        "DAI-002": 12,
        "DAI-003": 10,
        "DAI-004": 30,
        "DAI-005": 30,
    },
    "sz-warehouse": {
        "DRI-001": 20,
        "DRI-002": 20,
        "DRI-003": 20,
        "SNA-001": 20,
        "DAI-002": 10,
        "DAI-003": 15,
    },
}


def _recipient(name, phone, district, address, *, province="上海", city="上海市"):
    return {
        "recipient_name": name,
        "phone": phone,
        "province": province,
        "city": city,
        "district": district,
        "address": address,
    }


def seed(ctx):
    products = {p.sku: p for p in Product.objects.filter(sku__in={s for r in RECEIVED.values() for s in r})}
    if len(products) < len({s for r in RECEIVED.values() for s in r}):
        return  # a catalog without the demo's products: nothing to ship
    warehouses = _warehouses(ctx, products)
    ctx["warehouses"] = warehouses
    orders = {}
    orders.update(_shanghai(ctx, products, warehouses["sh-warehouse"]))
    orders.update(_imported(ctx))
    orders.update(_country(ctx, products))
    ctx["delivery_orders"] = orders
    _shipped(ctx, orders)
    ctx["stdout"].write(
        f"    delivery orders: {len(orders)} ({', '.join(sorted({o.status for o in orders.values()}))})"
    )


def _warehouses(ctx, products):
    """Shanghai's warehouse (core/demo.py) and a second in Shenzhen, each with a store room
    stocked by receipts (restock movements)."""
    shenzhen = ctx["regions"]["demo-sz"]
    sites = dict(ctx["sites"])
    if "sz-warehouse" not in sites:
        sites["sz-warehouse"] = ctx["sites"]["sz-warehouse"] = Site.objects.create(
            name="Shenzhen Warehouse",
            code="sz-warehouse",
            kind=Site.Kind.WAREHOUSE,
            region=shenzhen,
            address="88 Pingshan Road, Nanshan, Shenzhen",
            latitude=Decimal("22.560000"),
            longitude=Decimal("113.950000"),
        )
    shanghai = sites["sh-warehouse"]
    if shanghai.latitude is None:  # vending/demo.py places it; without the vending demo, here
        Site.objects.filter(pk=shanghai.pk).update(latitude=Decimal("31.190000"), longitude=Decimal("121.440000"))
    admin = ctx["users"]["platform_admin"]
    for code, received in RECEIVED.items():
        site = sites[code]
        room = StockLocation.objects.filter(
            site=site, kind=StockLocation.Kind.WAREHOUSE, is_active=True
        ).first() or StockLocation.objects.create(site=site, kind=StockLocation.Kind.WAREHOUSE, name="Store room A")
        if not StockLocation.objects.filter(site=site, kind=StockLocation.Kind.DAMAGED).exists():
            # Where a returned item that is not intact goes (quarantine).
            StockLocation.objects.create(site=site, kind=StockLocation.Kind.DAMAGED, name="Damaged goods")
        for sku, units in received.items():
            level = level_for(location=room, product=products[sku], low_threshold=5)
            stock_move(level=level, quantity=units, reason="restock", actor=admin, reference=f"demo-receipt-{code}")
    return {code: sites[code] for code in RECEIVED}


def _line(products, sku, quantity, price=None):
    return DeliveryLine(product=products[sku], quantity=quantity, unit_price=price)


def _shanghai(ctx, products, warehouse):
    """Orders the Shanghai office entered: allocated, being picked, packed, cancelled, held."""
    regional, service = ctx["users"]["regional_admin"], ctx["users"]["service_staff"]
    region = ctx["regions"]["demo-sh"]

    def create(key, recipient, lines, **extra):
        order, _created = delivery_create(
            actor=regional, region=region, recipient=recipient, lines=lines, platform="shop", **extra
        )
        return key, order

    made = dict(
        [
            create(
                "allocated",
                _recipient("周敏", "13817742096", "徐汇区", "肇嘉浜路1065号甲"),
                [_line(products, "DRI-002", 2), _line(products, "SNA-001", 1)],
                platform_order_number="SHOP-DEMO-1001",
            ),
            create(
                "allocated_express",
                _recipient("吴涛", "13524418830", "长宁区", "延安西路2299号世贸商城5楼"),
                [_line(products, "DRI-004", 3)],
                shipping_method="express",
                platform_order_number="SHOP-DEMO-1002",
            ),
            create(
                "picking",
                _recipient("郑丽", "13062259417", "杨浦区", "国定路335号2号楼1101室"),
                [_line(products, "DRI-001", 2), _line(products, "SNA-002", 2)],
                platform_order_number="SHOP-DEMO-1003",
            ),
            create(
                "packed",
                _recipient("黄伟", "18917635520", "闵行区", "虹井路120弄8号"),
                [_line(products, "DAI-001", 1), _line(products, "DRI-003", 2)],
                platform_order_number="SHOP-DEMO-1004",
            ),
            create(
                "cancelled",
                _recipient("林静", "13391870624", "普陀区", "中山北路3300号"),
                [_line(products, "DAI-004", 2)],
                platform_order_number="SHOP-DEMO-1005",
            ),
            # Held: the phone is two digits short; the price is far below the catalog's.
            create(
                "held_phone",
                _recipient("何斌", "139172655", "黄浦区", "西藏中路268号来福士广场"),
                [_line(products, "SNA-006", 4)],
                platform_order_number="SHOP-DEMO-1006",
            ),
            create(
                "held_price",
                _recipient("马琳", "15821307749", "静安区", "江宁路1158号友谊时代大厦"),
                [_line(products, "DAI-005", 3, Decimal("2.00"))],
                platform_order_number="SHOP-DEMO-1007",
            ),
        ]
    )

    def scan(order, product, times):
        _scan(ctx, order, warehouse, product, times)

    picking_start(order=made["picking"], warehouse=warehouse, actor=service)
    scan(made["picking"], products["DRI-001"], 2)  # half of the order's four items
    picking_start(order=made["packed"], warehouse=warehouse, actor=service)
    scan(made["packed"], products["DAI-001"], 1)
    scan(made["packed"], products["DRI-003"], 2)
    delivery_cancel(order=made["cancelled"], actor=regional, reason="The customer changed their mind (demo)")
    for order in made.values():
        order.refresh_from_db()
    return made


def _scan(ctx, order, warehouse, product, times):
    """`times` scans of `product` into `order`'s parcel by the service staff, as the picking page
    sends them (each with its own scan id)."""
    for _ in range(times):
        pack_scan(
            order=order,
            warehouse=warehouse,
            scan_id=uuid.UUID(int=ctx["random"].getrandbits(128), version=4),
            barcode=product.barcode,
            actor=ctx["users"]["service_staff"],
        )


def _packed(ctx, warehouse, key, recipient, lines):
    """A Shanghai order entered, picked and packed in full."""
    order, _created = delivery_create(
        actor=ctx["users"]["regional_admin"],
        region=ctx["regions"]["demo-sh"],
        recipient=recipient,
        lines=lines,
        platform="shop",
        platform_order_number=key,
    )
    picking_start(order=order, warehouse=warehouse, actor=ctx["users"]["service_staff"])
    for line in lines:
        _scan(ctx, order, warehouse, line.product, line.quantity)
    order.refresh_from_db()
    return order


def _country(ctx, products):
    """Orders taken for the whole country (the platform administrator's): one to Shenzhen, shipped
    from the Shenzhen warehouse, the nearer; one to Beijing for more umbrellas than either
    warehouse has, split between them, Shanghai (the nearer) first."""
    admin = ctx["users"]["platform_admin"]
    country = ctx["regions"]["demo-sh"].parent
    made = {}
    for key, recipient, lines, number in (
        (
            "nearest",
            _recipient("邓凯", "13728806315", "南山区", "科技园科苑路15号", province="广东省", city="深圳市"),
            [_line(products, "DRI-001", 2), _line(products, "DAI-003", 1)],
            "SHOP-DEMO-2001",
        ),
        (
            "split",
            _recipient("高远", "13911862047", "朝阳区", "建国路93号万达广场8号楼", province="北京", city="北京市"),
            [_line(products, "DAI-002", 15)],
            "SHOP-DEMO-2002",
        ),
    ):
        made[key], _created = delivery_create(
            actor=admin,
            region=country,
            recipient=recipient,
            lines=lines,
            platform="shop",
            platform_order_number=number,
            note="Team umbrellas for an event (demo)" if key == "split" else "",
        )
    return made


def _mapping(platform):
    mapping = PlatformMapping.objects.filter(platform=platform).first()
    if mapping is None:  # the migration's presets (a database built without migrations lacks them)
        mapping = PlatformMapping.objects.create(platform=platform, **PRESETS[platform])
    return mapping


def _imported(ctx):
    """A Taobao and a JD export imported into Shanghai, as the import page does; the Taobao file
    has an umbrella paid 5.00 (the catalog's 35.00): held for its price."""
    regional = ctx["users"]["regional_admin"]
    region = ctx["regions"]["demo-sh"]
    made = {}
    for platform, filename in (("taobao", "taobao-orders.csv"), ("jd", "jd-orders.csv")):
        result = orders_import(
            actor=regional,
            mapping=_mapping(platform),
            region=region,
            filename=filename,
            content=(FILES / filename).read_bytes(),
        )
        from orders.models import Order

        for index, order in enumerate(Order.objects.filter(number__in=result["numbers"]).order_by("pk")):
            made[f"{platform}_{index + 1}"] = order
    return made


def _shipped(ctx, orders):
    """Shipped (a waybill, a tracking step), delivered, and returned (one item intact, back on
    the shelf; one damaged, to quarantine) Shanghai orders, through the shipping and returns
    services; the simulated carrier's waybills, its tracking steps applied as a push applies them."""
    products = {p.sku: p for p in Product.objects.filter(sku__in=RECEIVED["sh-warehouse"])}
    warehouse = ctx["warehouses"]["sh-warehouse"]
    service, regional = ctx["users"]["service_staff"], ctx["users"]["regional_admin"]
    made = {
        "shipped": _packed(
            ctx,
            warehouse,
            "SHOP-DEMO-1101",
            _recipient("钱芳", "13601728854", "浦东新区", "张杨路500号华润时代广场12楼"),
            [_line(products, "DRI-002", 1), _line(products, "SNA-002", 1)],
        ),
        "delivered": _packed(
            ctx,
            warehouse,
            "SHOP-DEMO-1102",
            _recipient("曹宇", "13816620381", "宝山区", "牡丹江路1599号"),
            [_line(products, "DRI-001", 3)],
        ),
        "returned": _packed(
            ctx,
            warehouse,
            "SHOP-DEMO-1103",
            _recipient("许晴", "18817402265", "松江区", "文诚路358号"),
            [_line(products, "DRI-003", 1), _line(products, "SNA-001", 1)],
        ),
    }
    shipments = {
        key: shipping.shipments_label(orders=[order], carrier="simulated", actor=service)[0]
        for key, order in made.items()
    }
    for key, order in made.items():
        shipping.shipment_ship(order=order, actor=service)
        steps = [("in_transit", "Left the Shanghai sorting centre", "上海")]
        if key != "shipped":
            steps.append(("delivered", "Delivered, signed for by the recipient", "上海"))
        shipping.tracking_apply(
            carrier="simulated",
            updates=[
                TrackingUpdate(
                    waybill_number=shipments[key].waybill_number,
                    at=timezone.now(),
                    status=status,
                    description=description,
                    location=place,
                )
                for status, description, place in steps
            ],
            source="push",
        )
    order = made["returned"]
    request = returns.return_request_create(
        order=order,
        quantities={line.pk: line.quantity for line in order.lines.all()},
        reason="damaged",
        source="customer",
        actor=regional,
        note="The bag of chips arrived crushed; sending both back (demo)",
    )
    room = StockLocation.objects.filter(site=warehouse, kind=StockLocation.Kind.WAREHOUSE, is_active=True).first()
    for item in request.items.select_related("line__product"):
        for _ in range(item.quantity):
            returns.return_receive_scan(
                request=request,
                barcode=item.line.product.barcode,
                scan_id=str(uuid.UUID(int=ctx["random"].getrandbits(128), version=4)),
                location=room,
                actor=service,
            )
    for item in request.items.select_related("line__product"):
        intact = item.line.product.sku == "DRI-003"
        returns.return_inspect(
            item=item,
            condition="intact" if intact else "damaged",
            notes="" if intact else "Bag torn, contents crushed (demo)",
            actor=service,
        )
    for key, order in made.items():
        order.refresh_from_db()
        orders[key] = order
