"""Django admin for core, and `ScopedModelAdmin`, the base every app's admin uses so staff who
are not superusers see and change only what their scope allows."""

from django.contrib import admin

from core.models import AuditEntry, Notification, Region, Site


class ScopedModelAdmin(admin.ModelAdmin):
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.restrict(request.user, "view")

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            return type(obj)._default_manager.restrict(request.user, "change").filter(pk=obj.pk).exists()
        return allowed

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not request.user.is_superuser:
            return type(obj)._default_manager.restrict(request.user, "change").filter(pk=obj.pk).exists()
        return allowed

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and hasattr(related._default_manager, "restrict"):
            kwargs["queryset"] = related._default_manager.restrict(request.user, "change")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
