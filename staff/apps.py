from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    # Infrastructure, not a domain side effect: keeps role permission sets in step with the
    # models that exist after every migrate (a new model's permissions join its roles).
    from staff.roles import roles_sync

    roles_sync(using=kwargs.get("using", "default"))


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = _("Staff")

    def ready(self):
        post_migrate.connect(_sync_roles, dispatch_uid="staff.roles_sync")
