"""Pickup codes: one per order, unguessable, single use, expiring, stored only as a keyed HMAC."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import Site
from core.scoping import RestrictedManager
from devices.models import Device
from orders.models import Order


class PickupCode(models.Model):
    class Status(models.TextChoices):
        LIVE = "live", _("Valid")
        USED = "used", _("Used")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")

    class Purpose(models.TextChoices):
        PICKUP = "pickup", _("Pickup")
        DROPOFF = "dropoff", _("Drop-off")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="pickup_codes")
    code_hmac = models.CharField(max_length=64)
    # A drop-off code opens a reserved locker compartment for the depositor (a courier); a pickup
    # code opens it for the recipient, or hands an order over at a counter (docs/adr/0017).
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.PICKUP)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LIVE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    used_at_device = models.ForeignKey(
        Device, verbose_name=_("used at machine"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at_site = models.ForeignKey(
        Site, verbose_name=_("used at counter"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    scope_region_path = "order__region__path"
    scope_site = "order__site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["code_hmac"], condition=Q(status="live"), name="live_codes_unique"),
            models.UniqueConstraint(
                fields=["order", "purpose"], condition=Q(status="live"), name="one_live_code_per_order_and_purpose"
            ),
        ]
        verbose_name = _("pickup code")
        verbose_name_plural = _("pickup codes")

    def __str__(self):
        return f"{self.order.number} ({self.get_status_display()})"


class PickupAttempt(models.Model):
    """Every code entered at a machine or a counter, right or wrong (the code itself is not kept)."""

    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)
    refused_locked = models.BooleanField(_("refused while locked"), default=False)
    code = models.ForeignKey(PickupCode, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts")
    source = models.CharField(_("source"), max_length=120, blank=True)
    confirmed_by_phone = models.BooleanField(_("confirmed by phone"), default=False)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["device", "-at"]), models.Index(fields=["site", "-at"])]
        verbose_name = _("pickup attempt")
        verbose_name_plural = _("pickup attempts")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.succeeded else 'wrong'}"


class EntryLock(models.Model):
    """Code entry locked after too many wrong codes: for one source (a keypad session, a clerk, an
    API client) at a machine or counter, or, with `source` blank, for the whole machine or counter."""

    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=120, blank=True, help_text=_("Blank: the whole place."))
    locked_at = models.DateTimeField(_("locked"), auto_now_add=True)
    until = models.DateTimeField(_("until"))
    wrong_codes = models.PositiveIntegerField(_("wrong codes"))

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-locked_at"]
        verbose_name = _("code entry lock")
        verbose_name_plural = _("code entry locks")

    def __str__(self):
        return f"{self.device or self.site} {self.source} until {self.until:%H:%M}".replace("  ", " ")


class AttemptCounter(models.Model):
    """Codes evaluated at a place (`device:<pk>` or `site:<pk>`) by one source within a rolling
    window; the row with a blank source counts the whole place. A code is evaluated only after a
    conditional UPDATE has taken a slot here (`count < limit`), so parallel tries cannot pass the
    limit; right codes give their slot back."""

    place = models.CharField(_("place"), max_length=40)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=120, blank=True)
    window_start = models.DateTimeField(_("window start"))
    count = models.PositiveIntegerField(_("codes in window"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["place", "source"], name="one_attempt_counter_per_source")]
        verbose_name = _("code attempt counter")
        verbose_name_plural = _("code attempt counters")

    def __str__(self):
        return f"{self.place} {self.source}: {self.count}"


class PhoneConfirmation(models.Model):
    """A one-time code sent by SMS to the phone of a customer whose parcel waits at a place, so
    they can open with their pickup code even while code entry there is locked. Stored as an HMAC."""

    place = models.CharField(_("place"), max_length=40)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("phone"), max_length=20)
    code_hmac = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    scope_region_path = "site__region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        indexes = [models.Index(fields=["place", "phone", "-created_at"])]
        verbose_name = _("phone confirmation")
        verbose_name_plural = _("phone confirmations")

    def __str__(self):
        return f"{self.place} {self.phone} {self.created_at:%Y-%m-%d %H:%M}"
