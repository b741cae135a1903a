from django.contrib import admin

from core.admin import ScopedModelAdmin
from members.models import Customer, Feedback


@admin.register(Customer)
class CustomerAdmin(ScopedModelAdmin):
    list_display = ["phone", "name", "home_region", "created_at", "is_active"]
    search_fields = ["phone", "name"]


@admin.register(Feedback)
class FeedbackAdmin(ScopedModelAdmin):
    list_display = ["created_at", "rating", "order", "clerk", "site"]
    list_filter = ["rating"]
    raw_id_fields = ["order", "customer", "clerk"]
