"""The back office's admin site, and the one rule every admin page answers to: what only a
platform administrator may see or change.

A page is platform-only when its admin says so (`platform_only`), when its model cannot be scoped
(no `restrict()`), or, per action, when the permission it needs is in `staff.roles.PLATFORM_ONLY`
(users, groups, permissions, grants, tokens, ...). Django permissions alone are not enough there:
the platform role is checked, so a permission given by hand to someone else opens nothing.

Admins registered by third-party apps (auth's groups, tokens, schedules, lockouts, second-factor
devices) do not derive from our scoped base; `BackOfficeAdminSite.register` makes them
platform-only, so a newly installed app's admin starts closed instead of open. Which rows a
non-platform user sees on the pages left to them is `core.admin.ScopedModelAdmin`'s job (ADR 8).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_permission_codename


def is_platform_admin(user) -> bool:
    """Superusers and members of the platform administrators' role, and nobody else."""
    from staff.roles import PLATFORM_ADMIN

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    cached = user.__dict__.get("_is_platform_admin")
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=PLATFORM_ADMIN).exists()
        user.__dict__["_is_platform_admin"] = cached
    return cached


def model_is_scoped(model) -> bool:
    return hasattr(model._default_manager, "restrict")


def permission_is_platform_only(model, action: str) -> bool:
    from staff.roles import is_platform_only

    opts = model._meta
    return is_platform_only(opts.app_label, get_permission_codename(action, opts))


class PlatformGate:
    """Mixed into every admin of the site: the platform-only checks, then the admin's own."""

    platform_only = False

    def platform_allows(self, request, action: str) -> bool:
        if is_platform_admin(request.user):
            return True
        if self.platform_only or not model_is_scoped(self.model):
            return False
        return not permission_is_platform_only(self.model, action)

    def has_module_permission(self, request):
        return self.platform_allows(request, "view") and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.platform_allows(request, "view") and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args, **kwargs):
        return self.platform_allows(request, "add") and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self.platform_allows(request, "change") and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.platform_allows(request, "delete") and super().has_delete_permission(request, obj)

    # Admin writes bypass the services, so each one is written to the audit log as well (ADR 2).
    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _audit_admin_write(request, obj, "admin.add", message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _audit_admin_write(request, obj, "admin.change", message)
        return entry

    def log_deletion(self, request, obj, object_repr):
        entry = super().log_deletion(request, obj, object_repr)
        _audit_admin_write(request, obj, "admin.delete", object_repr)
        return entry


def _audit_admin_write(request, obj, action: str, message) -> None:
    from core.models import Region
    from core.services import audit_record

    region = obj if isinstance(obj, Region) else getattr(obj, "region", None)
    audit_record(
        actor=request.user,
        action=action,
        obj=obj,
        changes={"admin": str(message)[:1000]},
        region=region if isinstance(region, Region) else None,
    )


class PlatformOnlyAdmin(PlatformGate):
    """Every page of this admin is for platform administrators only."""

    platform_only = True


class BackOfficeAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, PlatformGate):
            # Not written for our scoping (a third-party or stock admin): platform administrators
            # only. A subclass, so the admin's own checks still apply after ours.
            admin_class = type(
                admin_class.__name__,
                (PlatformOnlyAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        return super().register(model_or_iterable, admin_class, **options)
