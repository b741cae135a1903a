"""Members API: customers, scoped to the staff member's regions."""

from rest_framework import serializers

from core.api import ScopedReadOnlyViewSet, router
from members.models import Customer


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "phone", "name", "email", "home_region", "created_at", "is_active"]


class CustomerViewSet(ScopedReadOnlyViewSet):
    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_fields = {"phone": ["exact"], "home_region": ["exact"], "is_active": ["exact"]}
    search_fields = ["phone", "name"]


router.register("customers", CustomerViewSet)

import members.customer_api  # noqa: E402,F401  (registers the customers' endpoints)
