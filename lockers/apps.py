from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LockersConfig(AppConfig):
    name = "lockers"
    verbose_name = _("Lockers")
