"""The device registry."""

from django.conf import settings
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
    paired_at = models.DateTimeField(_("paired"), null=True, blank=True)
    firmware = models.CharField(_("firmware"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The device's latest telemetry sample (the newest Telemetry row), kept here so that a heartbeat
    # that changes nothing writes nothing: see services.device_heartbeat.
    telemetry_at = models.DateTimeField(_("last telemetry sample"), null=True, blank=True)
    powered = models.BooleanField(_("mains power"), null=True, blank=True)
    signal_dbm = models.SmallIntegerField(_("signal (dBm)"), null=True, blank=True)
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=5, decimal_places=1, null=True, blank=True)
    door_open = models.BooleanField(_("door open"), null=True, blank=True)

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

    def refresh_from_db(self, *args, **kwargs):
        # device_heartbeat remembers what it last stored on this instance; after a reload the
        # row speaks for itself.
        self.__dict__.pop("_seen_stored_at", None)
        super().refresh_from_db(*args, **kwargs)


class DeviceCredential(models.Model):
    """The device API token, stored as a SHA-256 hash; the plain token is shown once."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, related_name="credential")
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(_("token prefix"), max_length=8)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        verbose_name = _("device credential")
        verbose_name_plural = _("device credentials")

    def __str__(self):
        return f"{self.device.serial_number} {self.token_prefix}…"


class Telemetry(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="telemetry")
    at = models.DateTimeField(_("at"), db_index=True)
    powered = models.BooleanField(_("mains power"), null=True)
    signal_dbm = models.SmallIntegerField(_("signal (dBm)"), null=True)
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=5, decimal_places=1, null=True)
    door_open = models.BooleanField(_("door open"), null=True)
    firmware = models.CharField(_("firmware"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["device", "-at"])]
        verbose_name = _("telemetry")
        verbose_name_plural = _("telemetry")

    def __str__(self):
        return f"{self.device_id} @ {self.at:%Y-%m-%d %H:%M:%S}"


class DeviceEvent(models.Model):
    """The device's log: pairing, online / offline, door, faults, sales, anything it reports."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    # Set by machines and gateways that retry: the same event delivered twice is stored once.
    event_id = models.UUIDField(_("event id"), null=True, blank=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["device", "kind", "-at"])]
        constraints = [models.UniqueConstraint(fields=["device", "event_id"], name="device_event_once")]
        verbose_name = _("device event")
        verbose_name_plural = _("device events")

    def __str__(self):
        return f"{self.device_id} {self.kind}"


class Fault(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="faults")
    code = models.CharField(_("code"), max_length=40)
    slot = models.CharField(_("slot"), max_length=20, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "code", "slot"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_fault_per_device_code_slot",
            )
        ]
        verbose_name = _("fault")
        verbose_name_plural = _("faults")

    def __str__(self):
        return f"{self.code} {self.slot}".strip()

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class DeviceCommand(models.Model):
    """A remote command with its state machine; `command_id` is what the device echoes, so it
    executes at most once however often delivery is retried."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.EXPIRED, Status.CANCELLED)

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="commands")
    command_id = models.UUIDField(_("command id"), unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("deliveries"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)

    scope_region_path = "device__site__region__path"
    scope_site = "device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["device", "status"])]
        verbose_name = _("device command")
        verbose_name_plural = _("device commands")

    def __str__(self):
        return f"{self.kind} → {self.device_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class DeviceCommandEvent(models.Model):
    command = models.ForeignKey(DeviceCommand, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    scope_region_path = "command__device__site__region__path"
    scope_site = "command__device__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("command event")
        verbose_name_plural = _("command events")

    def __str__(self):
        return f"{self.command_id}: {self.from_status} → {self.to_status}"
