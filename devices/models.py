"""The device registry."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Site
from core.scoping import RestrictedManager


class Device(models.Model):
    class Kind(models.TextChoices):
        VENDING = "vending", _("Vending machine")
        LOCKER = "locker", _("Locker bank")
        RENTAL = "rental", _("Rental station")

    class State(models.TextChoices):
        UNPAIRED = "unpaired", _("Not paired")
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Offline")
        MAINTENANCE = "maintenance", _("Maintenance")

    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    model_name = models.CharField(_("model"), max_length=60, blank=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="devices")
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.UNPAIRED)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    installed_at = models.DateField(_("installed"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self):
        return f"{self.name} ({self.serial_number})"

    @property
    def region(self):
        return self.site.region
