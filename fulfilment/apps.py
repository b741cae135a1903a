from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_presets(sender, **kwargs):
    # Infrastructure, as the roles' sync: the platforms' preset layouts exist after every migrate
    # and every flush (a flush empties the table migration 0003 filled). Rows operators edited are
    # left as they are.
    if sender.name != "fulfilment":
        return
    from fulfilment.imports import PRESETS
    from fulfilment.models import PlatformMapping

    using = kwargs.get("using", "default")
    for platform, preset in PRESETS.items():
        PlatformMapping.objects.using(using).get_or_create(platform=platform, defaults=preset)


class FulfilmentConfig(AppConfig):
    name = "fulfilment"
    verbose_name = _("Fulfilment")

    def ready(self):
        post_migrate.connect(_ensure_presets, dispatch_uid="fulfilment.presets")
