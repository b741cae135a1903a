"""Django admin for core, and `ScopedModelAdmin`, the base every app's admin uses so staff who
are not platform administrators see and change only what their scope allows: rows, the choices of
every foreign key and many-to-many field, and what a save may leave behind. Fields that reach
accounts, roles or permissions are read-only for them (ADR 8)."""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied

from core.admin_site import PlatformGate, is_platform_admin, model_is_scoped, permission_is_platform_only
from core.models import AuditEntry, ExportJob, Notification, OutboxMessage, RateCounter, Region, RegionSetting, Site

# Fields of an account that only a platform administrator may change, on any model.
SENSITIVE_FIELD_NAMES = frozenset({"password", "is_superuser", "is_staff", "groups", "user_permissions"})


def _platform_only_model(model) -> bool:
    return not model_is_scoped(model) or permission_is_platform_only(model, "view")


class ScopedModelAdmin(PlatformGate, admin.ModelAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        if not hasattr(queryset, "restrict"):  # a model that cannot be scoped: the platform's only
            return queryset if is_platform_admin(request.user) else queryset.none()
        return queryset.restrict(request.user, "view")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser and model_is_scoped(type(obj)):
            return type(obj)._default_manager.restrict(request.user, "change").filter(pk=obj.pk).exists()
        return allowed

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser and model_is_scoped(type(obj)):
            return type(obj)._default_manager.restrict(request.user, "change").filter(pk=obj.pk).exists()
        return allowed

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if is_platform_admin(request.user):
            return readonly
        opts = self.model._meta
        for field in [*opts.concrete_fields, *opts.many_to_many]:
            sensitive = field.name in SENSITIVE_FIELD_NAMES or (
                field.is_relation and _platform_only_model(field.related_model)
            )
            if sensitive and field.name not in readonly:
                readonly.append(field.name)
        return readonly

    def get_list_filter(self, request):
        """A filter on a related field lists every related row; for anyone but the platform it
        lists only those the (scoped) changelist refers to."""
        filters = list(super().get_list_filter(request))
        if is_platform_admin(request.user):
            return filters
        scoped_filters = []
        for item in filters:
            if isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
                item = (item, admin.RelatedOnlyFieldListFilter)
            scoped_filters.append(item)
        return scoped_filters

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._restrict_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._restrict_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _restrict_choices(self, db_field, request, kwargs) -> None:
        if request.user.is_superuser or is_platform_admin(request.user):
            return
        related = db_field.related_model
        if _platform_only_model(related):
            kwargs["queryset"] = related._default_manager.none()
        elif hasattr(related._default_manager, "restrict"):
            kwargs["queryset"] = related._default_manager.restrict(request.user, "change")

    def save_related(self, request, form, formsets, change):
        """After the row and its many-to-many fields are saved (inside the admin's transaction):
        a row the editor could not change afterwards is outside their scope, so nothing is kept."""
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if request.user.is_superuser or is_platform_admin(request.user) or not model_is_scoped(type(obj)):
            return
        if not type(obj)._default_manager.restrict(request.user, "change").filter(pk=obj.pk).exists():
            raise PermissionDenied


class AppendOnlyAdmin(ScopedModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]


@admin.register(Site)
class SiteAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "kind", "region", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "address"]


@admin.register(AuditEntry)
class AuditEntryAdmin(AppendOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_repr"]
    list_filter = ["action"]
    search_fields = ["object_repr", "actor_label"]


@admin.register(Notification)
class NotificationAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "template", "channel", "address", "status", "attempts"]
    list_filter = ["channel", "status", "template"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(AppendOnlyAdmin):
    """What the embedded default "sent": the platform's only (the messages carry secrets)."""

    platform_only = True
    list_display = ["created_at", "channel", "address", "subject"]
    list_filter = ["channel"]
    search_fields = ["address", "body"]


@admin.register(RateCounter)
class RateCounterAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ["key", "count", "window_end"]
    search_fields = ["key"]


@admin.register(RegionSetting)
class RegionSettingAdmin(AppendOnlyAdmin):
    """Read-only here: values are set on the console's settings page, which checks the range and
    writes the audit entry (ADR 16)."""

    list_display = ["region", "key", "value", "updated_at"]
    list_filter = ["key"]


@admin.register(ExportJob)
class ExportJobAdmin(AppendOnlyAdmin):
    """Background exports, for the platform to see what runs; users follow their own on the
    export page. The files are deleted with the job after a day (core.exports)."""

    platform_only = True
    list_display = ["created_at", "user", "exporter", "format", "status", "rows_done", "rows_total", "finished_at"]
    list_filter = ["status", "exporter", "format"]
    list_select_related = ["user"]
