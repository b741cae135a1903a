"""Customers. A customer's home region is where they first registered (a machine's or store's
region); staff see the customers of their regions."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
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
    level = models.PositiveSmallIntegerField(_("member level"), default=0)

    scope_region_path = "home_region__path"
    scope_site = None
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return f"{self.name} {self.phone}".strip()


class Feedback(models.Model):
    """A customer's rating of a visit or order, and of the clerk who served them."""

    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="feedback",
        verbose_name=_("order"),
    )
    clerk = models.ForeignKey(
        "staff.User", null=True, blank=True, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("clerk")
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    site = models.ForeignKey(
        "core.Site", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    scope_region_path = "region__path"
    scope_site = "site"
    objects = RestrictedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_to_5")
        ]

    def __str__(self):
        return f"{self.rating}★ {self.order or ''}".strip()
