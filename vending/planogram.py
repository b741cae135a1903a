"""Planograms: what each slot of a machine sells, at what price, with its capacity and par level.
Edited slot by slot on the machine's page, or imported from CSV / XLSX — every row checked first,
nothing written if one is wrong, each problem named by line and column."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from catalog.imports import ImportFailed, RowError, read_rows
from catalog.models import Product
from core.services import audit_record
from devices.models import Device
from inventory.models import StockLevel
from vending.models import Slot
from vending.services import slot_create

COLUMNS = ["machine", "slot", "product", "price", "capacity", "par_level", "low_threshold", "active"]
REQUIRED = {"machine", "slot", "product", "capacity"}
TRUE = {"1", "yes", "y", "true", "是", "on"}
FALSE = {"0", "no", "n", "false", "否", "off", ""}


def slot_update(
    *, slot: Slot, actor, product=None, price=None, capacity=None, par_level=None, low_threshold=None, is_active=None
) -> Slot:
    """Change a slot; a different product only while the slot is empty (its stock is that product)."""
    with transaction.atomic():
        slot = Slot.objects.select_for_update().select_related("level").get(pk=slot.pk)
        level = StockLevel.objects.select_for_update().get(pk=slot.level_id)
        before = {
            "product": slot.product_id,
            "price": str(slot.price),
            "capacity": level.capacity,
            "par": level.par_level,
        }
        if product is not None and product.pk != slot.product_id:
            if level.quantity > 0:
                raise ValidationError(
                    {
                        "product": _("Slot %(slot)s still holds %(n)s items: empty it before changing the product.")
                        % {"slot": slot.code, "n": level.quantity}
                    }
                )
            if not product.is_active:
                raise ValidationError({"product": _("%(product)s is not active.") % {"product": product}})
            level = _level_for_product(slot, level, product)
            slot.product, slot.level = product, level
        if price is not None and price < 0:
            raise ValidationError({"price": _("The price cannot be negative.")})
        capacity = level.capacity if capacity is None else capacity
        if capacity is None or capacity <= 0:
            raise ValidationError({"capacity": _("Capacity must be a positive whole number.")})
        if capacity < level.quantity:
            raise ValidationError(
                {
                    "capacity": _("Slot %(slot)s holds %(n)s items: the capacity cannot be lower.")
                    % {"slot": slot.code, "n": level.quantity}
                }
            )
        par = level.par_level if par_level is None else par_level
        if par is not None and par > capacity:
            raise ValidationError({"par_level": _("The par level cannot be above the capacity.")})
        threshold = level.low_threshold if low_threshold is None else low_threshold
        if threshold < 0 or (par is not None and threshold > par):
            raise ValidationError({"low_threshold": _("The low-stock threshold must be between 0 and the par level.")})
        StockLevel.objects.filter(pk=level.pk).update(capacity=capacity, par_level=par, low_threshold=threshold)
        slot.price = price if price is not None else slot.price
        if is_active is not None:
            slot.is_active = is_active
        slot.save()
        audit_record(
            actor=actor,
            action="planogram.slot",
            obj=slot,
            changes={
                "before": before,
                "after": {"product": slot.product_id, "price": str(slot.price), "capacity": capacity, "par": par},
            },
            region=slot.device.site.region,
        )
    return slot


def _level_for_product(slot, level, product):
    from inventory.services import level_for

    return level_for(
        location=level.location,
        product=product,
        capacity=level.capacity,
        par_level=level.par_level,
        low_threshold=level.low_threshold,
    )


def _int(value, line, column, errors, *, minimum=0, required=False):
    if value in ("", None):
        if required:
            errors.append(RowError(line, column, _("required")))
        return None
    try:
        number = int(str(value).split(".")[0]) if str(value).endswith(".0") else int(value)
    except ValueError:
        errors.append(RowError(line, column, _("not a whole number")))
        return None
    if number < minimum:
        errors.append(RowError(line, column, _("must be at least %(n)s") % {"n": minimum}))
        return None
    return number


def planogram_import(*, actor, filename: str, content: bytes) -> dict:
    """Create or update the slots listed (machine serial, slot code, product SKU, …)."""
    rows = read_rows(filename=filename, content=content, columns=COLUMNS, required=REQUIRED)
    errors: list[RowError] = []
    machines = {d.serial_number: d for d in Device.objects.restrict(actor, "change").filter(kind=Device.Kind.VENDING)}
    products = {p.sku: p for p in Product.objects.filter(sku__in=[r.get("product", "") for _l, r in rows])}
    seen: set[tuple[str, str]] = set()
    cleaned = []
    for line, row in rows:
        machine = machines.get(row.get("machine", ""))
        if machine is None:
            errors.append(RowError(line, "machine", _("no vending machine with this serial in your scope")))
        code = row.get("slot", "")
        if not code or len(code) > 20:
            errors.append(RowError(line, "slot", _("give a slot code of at most 20 characters")))
        elif (row.get("machine", ""), code) in seen:
            errors.append(RowError(line, "slot", _("this slot appears twice in the file")))
        seen.add((row.get("machine", ""), code))
        product = products.get(row.get("product", ""))
        if product is None:
            errors.append(RowError(line, "product", _("no product with this SKU")))
        elif not product.is_active:
            errors.append(RowError(line, "product", _("the product is not active")))
        price = None
        if row.get("price"):
            try:
                price = Decimal(row["price"])
                if price < 0:
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(RowError(line, "price", _("not a price")))
        capacity = _int(row.get("capacity"), line, "capacity", errors, minimum=1, required=True)
        par = _int(row.get("par_level"), line, "par_level", errors)
        threshold = _int(row.get("low_threshold"), line, "low_threshold", errors)  # blank: region default / kept
        if capacity and par and par > capacity:
            errors.append(RowError(line, "par_level", _("above the capacity")))
        active = row.get("active", "").lower()
        if active not in TRUE | FALSE:
            errors.append(RowError(line, "active", _("write yes or no")))
        cleaned.append(
            (line, machine, code, product, price, capacity, par, threshold, active not in FALSE or active == "")
        )
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for line, machine, code, product, price, capacity, par, threshold, active in cleaned:
            slot = Slot.objects.filter(device=machine, code=code).first()
            try:
                if slot is None:
                    slot = slot_create(
                        device=machine,
                        code=code,
                        product=product,
                        capacity=capacity,
                        par_level=par,
                        low_threshold=threshold,
                        price=price,
                        actor=actor,
                    )
                    created += 1
                else:
                    slot_update(
                        slot=slot,
                        actor=actor,
                        product=product,
                        price=price,
                        capacity=capacity,
                        par_level=par,
                        low_threshold=threshold,
                        is_active=active,
                    )
                    updated += 1
            except ValidationError as error:
                # A rule only the database state can check (e.g. a full slot changing product).
                raise ImportFailed([RowError(line, "-", " ".join(error.messages))]) from None
        audit_record(
            actor=actor, action="planogram.import", changes={"file": filename, "created": created, "updated": updated}
        )
    return {"created": created, "updated": updated, "rows": len(cleaned)}


MACHINE_COLUMNS = ["serial", "name", "kind", "site", "model", "latitude", "longitude"]
MACHINE_REQUIRED = {"serial", "name", "kind", "site"}


def machines_import(*, actor, filename: str, content: bytes) -> dict:
    """Register machines (serial, name, kind, site code, …) in sites the actor may change; an
    existing serial is renamed or moved. All rows or none."""
    from core.models import Site
    from devices.services import device_register

    rows = read_rows(filename=filename, content=content, columns=MACHINE_COLUMNS, required=MACHINE_REQUIRED)
    errors: list[RowError] = []
    sites = {s.code: s for s in Site.objects.restrict(actor, "change")}
    kinds = {value for value, _label in Device.Kind.choices}
    existing = {
        d.serial_number: d for d in Device.objects.filter(serial_number__in=[r.get("serial", "") for _l, r in rows])
    }
    seen = set()
    cleaned = []
    for line, row in rows:
        serial = row.get("serial", "")
        if not serial or len(serial) > 64:
            errors.append(RowError(line, "serial", _("give a serial number of at most 64 characters")))
        elif serial in seen:
            errors.append(RowError(line, "serial", _("this serial appears twice in the file")))
        seen.add(serial)
        if not row.get("name"):
            errors.append(RowError(line, "name", _("required")))
        if row.get("kind") not in kinds:
            errors.append(RowError(line, "kind", _("one of %(kinds)s") % {"kinds": ", ".join(sorted(kinds))}))
        site = sites.get(row.get("site", ""))
        if site is None:
            errors.append(RowError(line, "site", _("no site with this code in your scope")))
        device = existing.get(serial)
        if device is not None and device.site_id not in {s.pk for s in sites.values()}:
            errors.append(RowError(line, "serial", _("this machine belongs to a site outside your scope")))
        coordinates = {}
        for column, limit in (("latitude", 90), ("longitude", 180)):
            if row.get(column):
                try:
                    value = Decimal(row[column]).quantize(Decimal("0.000001"))
                    if abs(value) > limit:
                        raise InvalidOperation
                    coordinates[column] = value
                except InvalidOperation:
                    errors.append(RowError(line, column, _("not a coordinate")))
        cleaned.append((line, serial, row, site, device, coordinates))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for _line, serial, row, site, device, coordinates in cleaned:
            fields = {
                "name": row["name"][:120],
                "kind": row["kind"],
                "site": site,
                "model_name": row.get("model", "")[:60],
                **coordinates,
            }
            if device is None:
                device_register(actor=actor, serial_number=serial, **fields)
                created += 1
            else:
                for key, value in fields.items():
                    setattr(device, key, value)
                device.save()
                updated += 1
        audit_record(
            actor=actor, action="machines.import", changes={"file": filename, "created": created, "updated": updated}
        )
    return {"created": created, "updated": updated, "rows": len(cleaned)}
