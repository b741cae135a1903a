from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        from core import lookups
        from core.constraints import constraints_install
        from core.openapi import install_enum_overrides

        install_enum_overrides()
        lookups.install()
        constraints_install()  # friendly messages for every model's constraints (all loaded by now)
