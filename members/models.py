"""Customers. A customer's home region is where they first registered (a machine's or store's
region); staff see the customers of their regions."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import Region
from core.scoping import RestrictedManager


class Customer(models.Model):
    phone = models.CharField(_("phone"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=[("sms", _("SMS")), ("email", _("Email"))], default="sms"
    )
    home_region = models.ForeignKey(
        Region, verbose_name=_("home region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_region_path = "home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.name} {self.phone}".strip()
