"""Regions (a province / city / district tree), sites, the audit log and notifications."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedManager

PATH_SEGMENT_DIGITS = 8  # ids up to 99,999,999 keep paths sortable and prefix-safe


class Region(models.Model):
    """A node of the agent hierarchy; a grant on a region covers all of its descendants."""

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District")

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.CITY)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of zero-padded ids, e.g. "00000001/00000004/"; maintained by save().
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    scope_region_path = "path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        permissions = [("scope_all", _("Can see and manage every region"))]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        new_path = (self.parent.path if self.parent_id else "") + f"{self.pk:0{PATH_SEGMENT_DIGITS}d}/"
        if new_path != self.path:
            old_path = self.path
            self.path = new_path
            Region.objects.filter(pk=self.pk).update(path=new_path)
            if old_path:
                for child in Region.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                    child.path = new_path + child.path[len(old_path) :]
                    Region.objects.filter(pk=child.pk).update(path=child.path)

    @property
    def depth(self) -> int:
        return self.path.count("/") - 1

    def ancestor_paths(self) -> list[str]:
        """The paths of this region and every region above it, root first (for settings that a
        region inherits from its parents: tiers, plans, rules, coupons, promotions)."""
        parts = [part for part in self.path.strip("/").split("/") if part]
        return ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def descendants(self, include_self: bool = True):
        qs = Region.objects.filter(path__startswith=self.path)
        return qs if include_self else qs.exclude(pk=self.pk)


class Site(models.Model):
    """A place where things happen: a store, a venue with machines, or a warehouse."""

    class Kind(models.TextChoices):
        STORE = "store", _("Store")
        VENUE = "venue", _("Venue")
        WAREHOUSE = "warehouse", _("Warehouse")

    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STORE)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="sites")
    address = models.CharField(_("address"), max_length=255, blank=True)
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
    opening_time = models.TimeField(_("opens at"), null=True, blank=True)
    closing_time = models.TimeField(_("closes at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "region__path"
    scope_site = "pk"
    objects = RestrictedManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Append-only record of who changed what (see docs/adr/0002-audit-log.md)."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=60)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


class Notification(models.Model):
    """One message to one recipient over one channel, with the outcome of sending it."""

    class Channel(models.TextChoices):
        IN_APP = "in_app", _("In-app")
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    template = models.CharField(_("template"), max_length=80)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, default="en")
    # Empty for a message to a bare address (a sign-in code to a number that is nobody's yet).
    recipient_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recipient_id = models.PositiveBigIntegerField(null=True, blank=True)
    recipient = GenericForeignKey("recipient_type", "recipient_id")
    address = models.CharField(_("address"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient_type", "recipient_id", "-created_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.subject or self.body[:40]}"


class RateCounter(models.Model):
    """How often one limited thing (an SMS to a number, from an address, in all) happened in the
    window that began with its first occurrence. Taken with one conditional UPDATE
    (`core.services.rate_take`), so parallel requests can never pass the limit between them."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    window_end = models.DateTimeField(_("window ends"), db_index=True)
    count = models.PositiveIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("rate counter")
        verbose_name_plural = _("rate counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class OutboxMessage(models.Model):
    """What the embedded default "sent" instead of an SMS provider or a mail server: the text as
    the recipient would have read it (pickup codes, initial passwords, sign-in codes included), so
    a newcomer can follow the product without a provider. Only platform administrators see it,
    and a deployment with a real provider writes nothing here."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    created_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    template = models.CharField(_("template"), max_length=80, blank=True)

    # Not region-scoped: the page is gated by core.view_outboxmessage, which only platform
    # administrators hold (the messages carry secrets of every region).
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self):
        return f"{self.get_channel_display()} → {self.address}"


class RegionSetting(models.Model):
    """A region's own value of one of the parameters in `core.region_settings.REGISTRY`; the
    regions below it inherit it unless they have their own (ADR 16)."""

    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="parameter_values"
    )
    key = models.CharField(_("setting"), max_length=60)
    value = models.JSONField(_("value"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_region_path = "region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["region", "key"]
        verbose_name = _("region setting")
        verbose_name_plural = _("region settings")
        constraints = [models.UniqueConstraint(fields=["region", "key"], name="one_value_per_region_setting")]

    def __str__(self) -> str:
        return f"{self.region} · {self.key}"


class Heartbeat(models.Model):
    """When a background process last proved it was alive (``core.tasks.heartbeat``, sent by beat
    and run by a worker); read by the health endpoint."""

    name = models.CharField(_("name"), max_length=40, primary_key=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} {self.at:%Y-%m-%d %H:%M:%S}"


class ExportJob(models.Model):
    """A large export, written in the background (core.exports): who asked, for what (the
    exporter's name and the list's filters), how far it got, and the file when done. Only the
    user who asked sees it; the rows in it are the ones their scope allowed when it ran."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="export_jobs"
    )
    exporter = models.CharField(_("export"), max_length=40)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    format = models.CharField(_("format"), max_length=8)
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    # When the job last reported progress: a job whose worker died mid-way is taken again by the
    # task's redelivery once this is STALE_AFTER old (core.exports.export_job_run).
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.exporter}.{self.format} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
