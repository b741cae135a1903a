"""Daily roll-ups of the order spine, what each order contributed to them, and the nightly checks.

Reports read these tables, never the raw orders: a report over a year reads a few thousand rows
per store instead of every order line. The dimensions are plain integer ids (0 for "none": an
order without a device) so one unique key covers every row and a roll-up is one upsert; names
are looked up for the few ids a report shows. `OrderRollup` keeps what each order added, so a
roll-up task delivered twice, or a change seen late, adds only the difference
(docs/adr/0023-sales-roll-ups.md).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 16, "decimal_places": 2, "default": 0}
SALES_DIMENSIONS = ("day", "region_id", "site_id", "device_id", "kind", "channel", "method")


class SalesMeasures(models.Model):
    """The figures of a sales roll-up row."""

    orders = models.IntegerField(_("orders"), default=0)
    quantity = models.IntegerField(_("units"), default=0)
    gross = models.DecimalField(_("gross sales"), **MONEY)
    discounts = models.DecimalField(_("discounts"), **MONEY)
    refunds = models.DecimalField(_("refunds"), **MONEY)
    net = models.DecimalField(_("net sales"), **MONEY)
    cost = models.DecimalField(_("cost of goods"), **MONEY)
    fees = models.DecimalField(_("payment fees"), **MONEY)

    class Meta:
        abstract = True


class SalesDimensions(models.Model):
    day = models.DateField(_("day"))
    region_id = models.IntegerField(_("region"))
    site_id = models.IntegerField(_("site"), default=0)
    device_id = models.IntegerField(_("machine"), default=0)
    kind = models.CharField(_("order kind"), max_length=20)
    channel = models.CharField(_("channel"), max_length=20)
    method = models.CharField(_("payment method"), max_length=20, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.region_id}/{self.site_id}/{self.device_id} {self.kind} {self.method}"


class SalesDay(SalesDimensions, SalesMeasures):
    """Paid orders by the day they were paid (local time): one row per day × region × site ×
    machine × order kind × channel × payment method."""

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        permissions = [("view_profit", _("Can view profit and turnover reports"))]
        constraints = [models.UniqueConstraint(fields=list(SALES_DIMENSIONS), name="sales_day_key")]
        indexes = [models.Index(fields=["day", "region_id"], name="sales_day_day_region")]


class SalesHour(SalesDimensions, SalesMeasures):
    """The same figures per hour of the day: the heat map and hourly series read it."""

    hour = models.SmallIntegerField(_("hour"))

    class Meta:
        verbose_name = _("hourly sales")
        verbose_name_plural = _("hourly sales")
        constraints = [models.UniqueConstraint(fields=[*SALES_DIMENSIONS, "hour"], name="sales_hour_key")]
        indexes = [models.Index(fields=["day", "region_id"], name="sales_hour_day_region")]


class ProductSalesDay(SalesDimensions, SalesMeasures):
    """Per product: its lines' units, sales and cost, and its share (by line value) of the order's
    discount, refunds and fees. `orders` counts the orders that had the product."""

    product_id = models.IntegerField(_("product"), default=0)

    class Meta:
        verbose_name = _("daily product sales")
        verbose_name_plural = _("daily product sales")
        constraints = [models.UniqueConstraint(fields=[*SALES_DIMENSIONS, "product_id"], name="product_sales_day_key")]
        indexes = [
            models.Index(fields=["day", "region_id"], name="product_sales_day_region"),
            models.Index(fields=["product_id", "day"], name="product_sales_product_day"),
        ]


class SalesMonth(SalesDimensions, SalesMeasures):
    """`SalesDay` summed by calendar month (`day` is the month's first day): a report over a year
    reads 12 months of these instead of 365 days (docs/adr/0028-set-based-roll-up-rebuild.md)."""

    class Meta:
        verbose_name = _("monthly sales")
        verbose_name_plural = _("monthly sales")
        constraints = [models.UniqueConstraint(fields=list(SALES_DIMENSIONS), name="sales_month_key")]


class ProductSalesMonth(SalesDimensions, SalesMeasures):
    """`ProductSalesDay` summed by calendar month (`day` is the month's first day)."""

    product_id = models.IntegerField(_("product"), default=0)

    class Meta:
        verbose_name = _("monthly product sales")
        verbose_name_plural = _("monthly product sales")
        constraints = [
            models.UniqueConstraint(fields=[*SALES_DIMENSIONS, "product_id"], name="product_sales_month_key")
        ]


class PlaceDimensions(models.Model):
    """The narrow levels' key: the day (or month) and the place, without order kind, channel and
    payment method; a report that neither groups nor filters by those reads these (ADR 0028)."""

    day = models.DateField(_("day"))
    region_id = models.IntegerField(_("region"))
    site_id = models.IntegerField(_("site"), default=0)
    device_id = models.IntegerField(_("machine"), default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.day} {self.region_id}/{self.site_id}/{self.device_id}"


PLACE_DIMENSIONS = ("day", "region_id", "site_id", "device_id")


class SalesPlaceDay(PlaceDimensions, SalesMeasures):
    """`SalesDay` summed over kind, channel and method."""

    class Meta:
        verbose_name = _("daily sales by place")
        verbose_name_plural = _("daily sales by place")
        constraints = [models.UniqueConstraint(fields=list(PLACE_DIMENSIONS), name="sales_place_day_key")]


class SalesPlaceHour(PlaceDimensions, SalesMeasures):
    """`SalesHour` summed over kind, channel and method."""

    hour = models.SmallIntegerField(_("hour"))

    class Meta:
        verbose_name = _("hourly sales by place")
        verbose_name_plural = _("hourly sales by place")
        constraints = [models.UniqueConstraint(fields=[*PLACE_DIMENSIONS, "hour"], name="sales_place_hour_key")]


class ProductPlaceDay(PlaceDimensions, SalesMeasures):
    """`ProductSalesDay` summed over kind, channel and method."""

    product_id = models.IntegerField(_("product"), default=0)

    class Meta:
        verbose_name = _("daily product sales by place")
        verbose_name_plural = _("daily product sales by place")
        constraints = [models.UniqueConstraint(fields=[*PLACE_DIMENSIONS, "product_id"], name="product_place_day_key")]


class ProductPlaceMonth(PlaceDimensions, SalesMeasures):
    """`ProductSalesMonth` summed over kind, channel and method (`day` is the month's first day)."""

    product_id = models.IntegerField(_("product"), default=0)

    class Meta:
        verbose_name = _("monthly product sales by place")
        verbose_name_plural = _("monthly product sales by place")
        constraints = [
            models.UniqueConstraint(fields=[*PLACE_DIMENSIONS, "product_id"], name="product_place_month_key")
        ]


class OrderStatusDay(models.Model):
    """Orders by the day they were created and their status now, with the time paid → completed."""

    day = models.DateField(_("day"))
    region_id = models.IntegerField(_("region"))
    site_id = models.IntegerField(_("site"), default=0)
    device_id = models.IntegerField(_("machine"), default=0)
    kind = models.CharField(_("order kind"), max_length=20)
    channel = models.CharField(_("channel"), max_length=20)
    status = models.CharField(_("status"), max_length=20)
    orders = models.IntegerField(_("orders"), default=0)
    completed = models.IntegerField(_("completed after payment"), default=0)
    completion_seconds = models.BigIntegerField(_("seconds from paid to completed"), default=0)

    class Meta:
        verbose_name = _("daily orders by status")
        verbose_name_plural = _("daily orders by status")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "region_id", "site_id", "device_id", "kind", "channel", "status"],
                name="order_status_day_key",
            )
        ]
        indexes = [models.Index(fields=["day", "region_id"], name="order_status_day_region")]

    def __str__(self):
        return f"{self.day} {self.region_id}/{self.site_id}/{self.device_id} {self.status}"


class OrderRollup(models.Model):
    """What one order has added to the roll-ups, per day and table: the next change of the order
    adds only the difference, so a task run twice adds nothing the second time."""

    order_id = models.BigIntegerField(primary_key=True)
    # {"YYYY-MM-DD": {"day" | "hour" | "product" | "status": {"key|parts": [figures]}}}
    cells = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("order roll-up")
        verbose_name_plural = _("order roll-ups")

    def __str__(self):
        return str(self.order_id)


class RollupPending(models.Model):
    """An order whose change is not in the roll-ups yet. The order listener inserts it (a second
    change before the batch runs finds the row and writes nothing); the batch task takes a set of
    them, rolls the orders up and deletes them in the same transaction."""

    order_id = models.BigIntegerField(primary_key=True)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("order waiting for the roll-ups")
        verbose_name_plural = _("orders waiting for the roll-ups")

    def __str__(self):
        return str(self.order_id)


class RollupCheck(models.Model):
    """One check of a day's roll-ups against the raw orders: what differed and was repaired."""

    day = models.DateField(_("day"), db_index=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True)
    orders = models.IntegerField(_("orders checked"), default=0)
    differences = models.IntegerField(_("rows that differed"), default=0)
    details = models.JSONField(_("details"), default=list, blank=True)
    trigger = models.CharField(_("run by"), max_length=20, default="nightly")

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("roll-up check")
        verbose_name_plural = _("roll-up checks")

    def __str__(self):
        return f"{self.day} ({self.differences})"


class SummarySubscription(models.Model):
    """A manager's daily summary email: yesterday's figures within their grants, in the language
    they chose, at the hour they chose (docs: README, reports)."""

    user = models.OneToOneField(
        "staff.User", on_delete=models.CASCADE, related_name="summary_subscription", verbose_name=_("user")
    )
    active = models.BooleanField(_("active"), default=True)
    language = models.CharField(_("language"), max_length=10)
    hour = models.PositiveSmallIntegerField(_("hour to send"), default=8)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("daily summary subscription")
        verbose_name_plural = _("daily summary subscriptions")
        constraints = [models.CheckConstraint(condition=models.Q(hour__lte=23), name="summary_hour_of_day")]

    def __str__(self):
        return f"{self.user} {self.hour:02d}:00 {self.language}"


class SummarySend(models.Model):
    """One daily summary sent: the unique (user, day) makes a task delivered twice send once."""

    user = models.ForeignKey("staff.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    language = models.CharField(_("language"), max_length=10)

    class Meta:
        ordering = ["-day", "-pk"]
        verbose_name = _("daily summary sent")
        verbose_name_plural = _("daily summaries sent")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="summary_send_once_a_day")]

    def __str__(self):
        return f"{self.user} {self.day}"
