"""Delivery orders from a platform's export file (CSV or XLSX), laid out as the platform's saved
column mapping says (fulfilment.PlatformMapping; docs/adr/0032).

The product import's machinery reads the file (catalog.imports.read_rows, RowError, ImportFailed):
every row is checked first, and one bad row means nothing is imported, each problem reported with
its line and the file's own column header. Rows with the same platform order number are one order
(one row per item). An order number imported before is skipped when it is the same order, and
refused when the file says something else about it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from catalog.imports import ImportFailed, RowError, read_rows
from catalog.models import Product
from fulfilment.models import Delivery, PlatformMapping
from fulfilment.orders import DeliveryLine, delivery_create
from fulfilment.verification import phone_valid
from orders.models import Channel, OrderLine

# Presets for the layouts sellers download (the migration 0003 creates them; operators edit them).
PRESETS = {
    "taobao": {
        "name": "淘宝 / 天猫 (Taobao / Tmall)",
        "columns": {
            "order_number": "订单编号",
            "recipient": "收货人姓名",
            "phone": "联系手机",
            "address": "收货地址",
            "sku": "商家编码",
            "product_name": "宝贝标题",
            "quantity": "宝贝总数量",
            "line_total": "买家实际支付金额",
        },
    },
    "jd": {
        "name": "京东 (JD)",
        "columns": {
            "order_number": "订单号",
            "recipient": "客户姓名",
            "phone": "联系电话",
            "address": "客户地址",
            "sku": "商品ID",
            "product_name": "商品名称",
            "quantity": "订购数量",
            "unit_price": "京东价",
        },
    },
}

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_DISTRICT = re.compile(r"^(?P<district>.+?(?:区|县|旗))?(?P<street>.*)$")
_ADDRESS = re.compile(
    r"^(?P<province>.+?(?:省|自治区|特别行政区))?(?P<city>.+?(?:市|自治州|地区|盟))?"
    r"(?P<district>.+?(?:区|县|旗|市))?(?P<street>.*)$"
)


def address_split(text: str) -> dict:
    """Province, city, district and street from one address as platforms write it, with spaces
    ("浙江省 杭州市 西湖区 文三路100号", Taobao) or without ("上海上海市徐汇区漕溪北路88号", JD)."""
    text = " ".join((text or "").split())
    parts = text.split(" ")
    if len(parts) >= 4:
        return {"province": parts[0], "city": parts[1], "district": parts[2], "address": " ".join(parts[3:])}
    compact = text.replace(" ", "")
    for name in MUNICIPALITIES:
        if compact.startswith(name):
            rest = compact[len(name) :].removeprefix("市")
            rest = rest.removeprefix(name + "市").removeprefix(name)
            match = _DISTRICT.match(rest)
            return {
                "province": name,
                "city": name + "市",
                "district": match.group("district") or "",
                "address": match.group("street"),
            }
    match = _ADDRESS.match(compact)
    return {
        "province": match.group("province") or "",
        "city": match.group("city") or "",
        "district": match.group("district") or "",
        "address": match.group("street") or "",
    }


def _quantity(value: str, line: int, column: str, errors: list[RowError]) -> int | None:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        errors.append(RowError(line, column, _("not a number")))
        return None
    if number != number.to_integral_value() or number <= 0 or number > 100000:
        errors.append(RowError(line, column, _("a whole number from 1 to 100000")))
        return None
    return int(number)


def _amount(value: str, line: int, column: str, errors: list[RowError]) -> Decimal | None:
    text = value.replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.append(RowError(line, column, _("not a number")))
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        errors.append(RowError(line, column, _("must be zero or more")))
        return None
    return amount


def _products(codes: set[str]) -> dict[str, Product]:
    found = {}
    for product in Product.objects.filter(Q(sku__in=codes) | Q(barcode__in=codes)):
        found.setdefault(product.sku, product)
        if product.barcode:
            found.setdefault(product.barcode, product)
    return found


def parse_file(*, mapping: PlatformMapping, filename: str, content: bytes) -> list[dict]:
    """The file's orders, checked: [{number, line, recipient: {...}, lines: [DeliveryLine]}].
    Raises ImportFailed with every problem found."""
    header = {field: str(name).strip().lower() for field, name in mapping.columns.items() if str(name).strip()}
    missing_fields = [field for field in PlatformMapping.REQUIRED if field not in header]
    if missing_fields:
        raise ImportFailed(
            [
                RowError(0, field, _("the mapping of %(platform)s names no column for it") % {"platform": mapping})
                for field in missing_fields
            ]
        )
    label = {field: mapping.columns[field] for field in header}
    rows = read_rows(
        filename=filename,
        content=content,
        columns=set(header.values()),
        required={header[field] for field in PlatformMapping.REQUIRED},
        ignore_unknown=True,
    )
    if not rows:
        raise ImportFailed([RowError(2, "-", _("The file has no orders."))])
    errors: list[RowError] = []
    products = _products({values.get(header["sku"], "") for _line, values in rows} - {""})
    orders: OrderedDict[str, dict] = OrderedDict()
    for line, values in rows:
        get = lambda field, values=values: values.get(header[field], "") if field in header else ""  # noqa: E731
        before = len(errors)
        for field in PlatformMapping.REQUIRED:
            if not get(field):
                errors.append(RowError(line, label[field], _("required")))
        number = get("order_number").lstrip("'=\"").rstrip('"')  # spreadsheets guard long numbers so
        if len(number) > 64:
            errors.append(RowError(line, label["order_number"], _("at most 64 characters")))
        phone = re.sub(r"[\s\-()]", "", get("phone").lstrip("'"))
        if phone and not phone_valid(phone):
            errors.append(RowError(line, label["phone"], _("not a valid phone number")))
        product = None
        if get("sku"):
            product = products.get(get("sku"))
            if product is None:
                errors.append(RowError(line, label["sku"], _("no product with this SKU or barcode")))
        quantity = _quantity(get("quantity"), line, label["quantity"], errors) if get("quantity") else None
        price = None
        if get("unit_price"):
            price = _amount(get("unit_price"), line, label["unit_price"], errors)
        elif get("line_total") and quantity:
            total = _amount(get("line_total"), line, label["line_total"], errors)
            if total is not None:
                price = (total / quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        address = address_split(get("address"))
        for field in ("province", "city", "district"):
            if get(field):
                address[field] = get(field)
        recipient = {"recipient_name": get("recipient")[:100], "phone": phone[:32], **address}
        for field, limit in (("province", 50), ("city", 50), ("district", 50), ("address", 255)):
            if len(recipient[field]) > limit:
                errors.append(RowError(line, label["address"], _("at most %(n)s characters") % {"n": limit}))
        if len(errors) > before:
            continue
        entry = orders.get(number)
        if entry is None:
            orders[number] = {"number": number, "line": line, "recipient": recipient, "lines": []}
        elif entry["recipient"] != recipient:
            errors.append(
                RowError(
                    line,
                    label["address"],
                    _("order %(number)s has a different recipient or address on line %(line)s")
                    % {"number": number, "line": entry["line"]},
                )
            )
            continue
        orders[number]["lines"].append(DeliveryLine(product=product, quantity=quantity, unit_price=price))
    _check_already_imported(mapping.platform, orders, label, errors)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: (e.line, e.column)))
    return list(orders.values())


def _check_already_imported(platform: str, orders: dict, label: dict, errors: list[RowError]) -> None:
    """An order number imported before: the same order is skipped later; a different one is refused."""
    for delivery in Delivery.objects.filter(platform=platform, platform_order_number__in=list(orders)).select_related(
        "order"
    ):
        entry = orders[delivery.platform_order_number]
        theirs = sorted(OrderLine.objects.filter(order=delivery.order).values_list("product_id", "quantity"))
        mine = sorted((line.product.pk, line.quantity) for line in entry["lines"])
        if theirs != mine or delivery.phone != entry["recipient"]["phone"]:
            errors.append(
                RowError(
                    entry["line"],
                    label["order_number"],
                    _("already imported as order %(order)s with other items or another phone")
                    % {"order": delivery.order.number},
                )
            )
        else:
            entry["existing"] = delivery.order


def orders_import(*, actor, mapping: PlatformMapping, region, filename: str, content: bytes) -> dict:
    """Import the file's orders into `region` (all or nothing); each new one is verified and, when it
    passes, allocated. Returns counts for the page."""
    from core.services import audit_record

    parsed = parse_file(mapping=mapping, filename=filename, content=content)
    created = skipped = held = 0
    numbers = []
    with transaction.atomic():
        for entry in parsed:
            if entry.get("existing") is not None:
                skipped += 1
                continue
            order, was_created = delivery_create(
                actor=actor,
                region=region,
                recipient=entry["recipient"],
                lines=entry["lines"],
                channel=Channel.IMPORT,
                platform=mapping.platform,
                platform_order_number=entry["number"],
            )
            created += was_created
            skipped += not was_created
            held += bool(was_created and order.delivery.holds)
            numbers.append(order.number)
        audit_record(
            actor=actor,
            action="fulfilment.import",
            changes={"file": filename, "platform": mapping.platform, "created": created, "skipped": skipped},
            region=region,
        )
    return {"created": created, "skipped": skipped, "held": held, "orders": len(parsed), "numbers": numbers}


def mapping_update(*, actor, mapping: PlatformMapping, name: str, columns: dict) -> PlatformMapping:
    """Save a platform's column mapping (audited with what changed)."""
    from core.services import audit_record

    with transaction.atomic():
        before = {"name": mapping.name, "columns": mapping.columns}
        mapping.name = name
        mapping.columns = columns
        mapping.save(update_fields=["name", "columns", "updated_at"])
        audit_record(
            actor=actor, action="fulfilment.mapping", obj=mapping, changes={"before": before, "after": columns}
        )
    return mapping
