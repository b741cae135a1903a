"""Stored demand forecasts: one row per machine slot (its stock level), replaced by each refit.

What a row says: the next days' expected units with an 80 % interval, what they are based on (the
model its backtest chose, or a fallback with the reason), and the backtest figures that make the
accuracy visible: the chosen model's (its median point forecast's) and the seasonal naive
forecast's absolute errors on the same days, the units sold on them, and the scale of MASE (docs/adr/0029-slot-demand-forecasts.md).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.models import Site
from core.scoping import RestrictedManager
from devices.models import Device
from inventory.models import StockLevel


class SlotForecast(models.Model):
    class Basis(models.TextChoices):
        MODEL = "model", _("Forecast")
        PRODUCT_AVERAGE = "product_average", _("Product average")
        SITE_AVERAGE = "site_average", _("Site average")
        NONE = "none", _("No history")

    class Reason(models.TextChoices):
        NONE = "", _("None")
        SHORT = "short", _("too little history")
        FAILED = "failed", _("the model could not be fitted")

    level = models.OneToOneField(
        StockLevel, verbose_name=_("slot stock"), on_delete=models.CASCADE, related_name="forecast"
    )
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(Device, verbose_name=_("machine"), on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+")
    start = models.DateField(_("first day"))
    mean = models.JSONField(_("expected units per day"), default=list)
    # What MASE and WAPE score: the median of the predictive distribution around `mean` (the
    # point that minimises expected absolute error); `mean` stays what planning reads.
    point = models.JSONField(_("median units per day"), default=list)
    low = models.JSONField(_("interval low per day"), default=list)
    high = models.JSONField(_("interval high per day"), default=list)
    basis = models.CharField(_("based on"), max_length=20, choices=Basis.choices)
    reason = models.CharField(_("fallback reason"), max_length=20, choices=Reason.choices, blank=True)
    model = models.CharField(_("model"), max_length=20, blank=True)
    history_days = models.PositiveIntegerField(_("days of history"), default=0)
    backtest_windows = models.PositiveSmallIntegerField(_("backtest windows"), default=0)
    backtest_days = models.PositiveSmallIntegerField(_("backtest days"), default=0)
    held_out = models.BooleanField(_("model chosen before the scored weeks"), default=False)
    abs_error = models.FloatField(_("backtest absolute error"), default=0)
    naive_abs_error = models.FloatField(_("seasonal naive absolute error"), default=0)
    actual = models.FloatField(_("units sold in the backtest"), default=0)
    scale = models.FloatField(_("MASE scale"), default=0)
    mase = models.FloatField(_("MASE"), null=True, blank=True)
    naive_mase = models.FloatField(_("seasonal naive MASE"), null=True, blank=True)
    wape = models.FloatField(_("WAPE"), null=True, blank=True)
    naive_wape = models.FloatField(_("seasonal naive WAPE"), null=True, blank=True)
    fitted_at = models.DateTimeField(_("fitted at"))

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["device", "level"]
        verbose_name = _("slot forecast")
        verbose_name_plural = _("slot forecasts")
        indexes = [models.Index(fields=["product", "device"], name="slot_forecast_product")]

    def __str__(self):
        return f"{self.level_id} {self.start}"

    @property
    def total(self) -> float:
        return round(sum(self.mean), 1)

    @property
    def point_total(self) -> float:
        return round(sum(self.point), 1)
