"""The admin app, with the back office's site (core.admin_site) as the default `admin.site`."""

from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    default_site = "core.admin_site.BackOfficeAdminSite"
