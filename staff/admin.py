from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from staff.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("phone", "gender", "language", "must_change_password")}),)
    list_display = ["username", "first_name", "last_name", "phone", "is_active", "is_staff"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: what a user did stays attributed to them
