"""Devices API for staff (the device-facing API comes with the devices issue)."""

from rest_framework import serializers

from core.api import ScopedViewSet, router
from devices.filters import DeviceFilter
from devices.models import Device


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = [
            "id",
            "serial_number",
            "name",
            "kind",
            "model_name",
            "site",
            "latitude",
            "longitude",
            "state",
            "last_seen_at",
            "installed_at",
            "is_active",
        ]
        read_only_fields = ["state", "last_seen_at"]

    def validate_site(self, site):
        from core.models import Site

        if not Site.objects.restrict(self.context["request"].user, "change").filter(pk=site.pk).exists():
            raise serializers.ValidationError("You may not place devices at this site.")
        return site


class DeviceViewSet(ScopedViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    search_fields = ["name", "serial_number"]
    select_related = ("site",)
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def perform_create(self, serializer):
        from devices.services import device_register

        serializer.instance = device_register(actor=self.request.user, **serializer.validated_data)


router.register("devices", DeviceViewSet)
