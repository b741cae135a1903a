from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendingConfig(AppConfig):
    name = "vending"
    verbose_name = _("Vending")
