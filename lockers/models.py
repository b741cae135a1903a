"""Self-pickup lockers: a locker bank is a device; its compartments and the orders placed in them."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedManager
from devices.models import Device
from orders.models import Order

SIZES = ["S", "M", "L", "XL"]


class Compartment(models.Model):
    class Size(models.TextChoices):
        S = "S", _("Small")
        M = "M", _("Medium")
        L = "L", _("Large")
        XL = "XL", _("Extra large")

    class State(models.TextChoices):
        FREE = "free", _("Free")
        RESERVED = "reserved", _("Reserved")
        OCCUPIED = "occupied", _("Occupied")
        OUT_OF_SERVICE = "out_of_service", _("Out of service")

    bank = models.ForeignKey(
        Device, verbose_name=_("locker bank"), on_delete=models.PROTECT, related_name="compartments"
    )
    door = models.PositiveSmallIntegerField(_("door"))
    size = models.CharField(_("size"), max_length=2, choices=Size.choices)
    size_rank = models.PositiveSmallIntegerField(editable=False)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.FREE)
    door_open = models.BooleanField(_("door open"), null=True)
    occupied_sensor = models.BooleanField(_("occupancy sensor"), null=True)

    scope_region_path = "bank__site__region__path"
    scope_site = "bank__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["bank", "door"]
        constraints = [models.UniqueConstraint(fields=["bank", "door"], name="one_compartment_per_door")]
        verbose_name = _("compartment")
        verbose_name_plural = _("compartments")

    def __str__(self):
        return f"{self.bank.name} #{self.door} ({self.size})"

    def save(self, *args, **kwargs):
        self.size_rank = SIZES.index(self.size)
        super().save(*args, **kwargs)


class LockerOrder(models.Model):
    class Stage(models.TextChoices):
        ASSIGNED = "assigned", _("Waiting for the goods")
        READY = "ready", _("Ready for pickup")
        OPENED = "opened", _("Opened by the customer")
        COLLECTED = "collected", _("Collected")
        EXPIRED = "expired", _("Expired — return to sender")
        CANCELLED = "cancelled", _("Cancelled — booking not paid")

    order = models.OneToOneField(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="locker")
    bank = models.ForeignKey(
        Device, verbose_name=_("locker bank"), on_delete=models.PROTECT, related_name="locker_orders"
    )
    compartment = models.ForeignKey(
        Compartment, verbose_name=_("compartment"), on_delete=models.PROTECT, related_name="orders"
    )
    size = models.CharField(_("size needed"), max_length=2, choices=Compartment.Size.choices)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.ASSIGNED)
    ready_at = models.DateTimeField(_("ready"), null=True, blank=True)
    collected_at = models.DateTimeField(_("collected"), null=True, blank=True)
    overdue_fee_per_day = models.DecimalField(
        _("overdue fee per day"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # Set for orders placed by an operator or partner (docs/adr/0017): how long the goods wait
    # (else the bank's rule) and who gets the parcel back when they are not collected.
    keep_days = models.PositiveSmallIntegerField(_("keep for (days)"), null=True, blank=True)
    sender_phone = models.CharField(_("sender's phone"), max_length=20, blank=True)

    scope_region_path = "bank__site__region__path"
    scope_site = "bank__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["compartment"],
                condition=~Q(stage__in=["collected", "expired", "cancelled"]),
                name="one_live_order_per_compartment",
            )
        ]
        verbose_name = _("locker order")
        verbose_name_plural = _("locker orders")

    def __str__(self):
        return f"{self.order.number} → {self.compartment}"


class ReturnTask(models.Model):
    """Staff take expired goods out of a compartment and return them to the sender."""

    locker_order = models.OneToOneField(LockerOrder, on_delete=models.PROTECT, related_name="return_task")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(_("compartment opened"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    scope_region_path = "locker_order__bank__site__region__path"
    scope_site = "locker_order__bank__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("return task")
        verbose_name_plural = _("return tasks")

    def __str__(self):
        return f"return {self.locker_order}"


class StorageRule(models.Model):
    """A bank's storage rules: free hours after the goods are ready, a fee per started day after
    that (from the customer's wallet), and the days after which goods return to the sender."""

    bank = models.OneToOneField(
        Device, verbose_name=_("locker bank"), on_delete=models.CASCADE, related_name="storage_rule"
    )
    free_hours = models.PositiveIntegerField(_("free hours"), default=24)
    overdue_fee_per_day = models.DecimalField(
        _("overdue fee per day"), max_digits=14, decimal_places=2, default=Decimal("2.00")
    )
    return_after_days = models.PositiveIntegerField(_("return to sender after (days)"), default=3)

    scope_region_path = "bank__site__region__path"
    scope_site = "bank__site"
    objects = RestrictedManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(overdue_fee_per_day__gte=0, return_after_days__gte=1), name="storage_rule_values"
            )
        ]
        verbose_name = _("storage rule")
        verbose_name_plural = _("storage rules")

    def __str__(self):
        return f"{self.bank}: {self.free_hours} h free"
