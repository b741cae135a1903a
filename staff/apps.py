from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    # Infrastructure, not a domain side effect: keeps role permission sets in step with the
    # models that exist after every migrate (a new model's permissions join its roles).
    # post_migrate is sent once per installed app after every migrate and every flush (each
    # transactional test ends with one); roles_sync creates the permissions of every app itself,
    # so it runs once, for the staff app's signal, not thirty times.
    if sender.name != "staff":
        return
    from staff.roles import roles_sync

    roles_sync(using=kwargs.get("using", "default"))


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = _("Staff")

    def ready(self):
        post_migrate.connect(_sync_roles, dispatch_uid="staff.roles_sync")
