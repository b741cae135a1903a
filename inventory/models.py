"""Stock: where it is (locations), how much (levels) and every change (append-only movements).

A level changes only through inventory.services, by a conditional UPDATE that refuses to go below
zero (a CHECK constraint backs it up), and every change writes a StockMovement in the same
transaction, so the sum of a level's movements always equals its quantity.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.models import Site
from core.scoping import RestrictedManager
from devices.models import Device


class StockLocation(models.Model):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        SHELF = "shelf", _("Store shelf")
        SLOT = "slot", _("Machine slot")
        COMPARTMENT = "compartment", _("Locker compartment")
        VEHICLE = "vehicle", _("Service vehicle")
        DAMAGED = "damaged", _("Damaged goods")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="stock_locations")
    device = models.ForeignKey(
        Device,
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_locations",
    )
    code = models.CharField(_("code"), max_length=20, blank=True, help_text=_("Slot or compartment code"))
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["site", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code"], condition=Q(device__isnull=False), name="one_location_per_device_code"
            )
        ]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")

    def __str__(self):
        return self.name


class StockLevel(models.Model):
    location = models.ForeignKey(
        StockLocation, verbose_name=_("location"), on_delete=models.PROTECT, related_name="levels"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    quantity = models.IntegerField(_("quantity"), default=0)
    # Held for allocated delivery orders (fulfilment.Allocation): available = quantity - reserved.
    reserved = models.PositiveIntegerField(_("reserved"), default=0)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    par_level = models.PositiveIntegerField(_("par level"), null=True, blank=True)
    low_threshold = models.PositiveIntegerField(_("low-stock threshold"), default=0)
    # Set when the level fell to its threshold (the service staff were alerted), cleared by a restock.
    low_since = models.DateTimeField(_("low since"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_region_path = "location__site__region__path"
    scope_site = "location__site"
    supplier_lookup = "product__supplier"
    objects = RestrictedManager()

    class Meta:
        ordering = ["location", "product"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product"], name="one_level_per_location_product"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_never_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("quantity")), name="stock_reserved_within_quantity"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(quantity__lte=models.F("capacity")), name="stock_within_capacity"
            ),
        ]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")

    def __str__(self):
        return f"{self.product} @ {self.location}: {self.quantity}"

    @property
    def is_low(self) -> bool:
        return self.quantity <= self.low_threshold


class StockMovement(models.Model):
    class Reason(models.TextChoices):
        SALE = "sale", _("Sale")
        SALE_REVERSED = "sale_reversed", _("Sale reversed")
        RESTOCK = "restock", _("Restock")
        RETURN = "return", _("Return")
        ADJUSTMENT = "adjustment", _("Adjustment")
        TRANSFER = "transfer", _("Transfer")
        SCAN = "scan", _("Barcode scan")

    level = models.ForeignKey(
        StockLevel, verbose_name=_("stock level"), on_delete=models.PROTECT, related_name="movements"
    )
    delta = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    scope_region_path = "level__location__site__region__path"
    scope_site = "level__location__site"
    supplier_lookup = "level__product__supplier"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(delta=0), name="movement_not_zero")]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")

    def __str__(self):
        return f"{self.delta:+d} {self.get_reason_display()}"
