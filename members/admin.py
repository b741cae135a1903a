from django.contrib import admin

from core.admin import ScopedModelAdmin
from members.models import Customer


@admin.register(Customer)
class CustomerAdmin(ScopedModelAdmin):
    list_display = ["phone", "name", "home_region", "created_at", "is_active"]
    search_fields = ["phone", "name"]
