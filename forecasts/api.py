"""`GET /api/v1/forecasts/`: each slot's stored forecast for a driver's or planner's app, scoped
to the caller's regions; filter by machine (`device`), product or site. `mean` and `high` are
for planning; `point` (the median per day) is what the accuracy figures score."""

from rest_framework import serializers

from core.api import ScopedReadOnlyViewSet, router
from forecasts.demand import basis_label
from forecasts.models import SlotForecast


class SlotForecastSerializer(serializers.ModelSerializer):
    slot = serializers.CharField(source="level.location.code", read_only=True)
    machine = serializers.CharField(source="device.name", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    basis_label = serializers.SerializerMethodField()

    class Meta:
        model = SlotForecast
        fields = [
            "id",
            "level",
            "slot",
            "device",
            "machine",
            "product",
            "product_name",
            "site",
            "start",
            "mean",
            "point",
            "low",
            "high",
            "basis",
            "reason",
            "basis_label",
            "model",
            "history_days",
            "held_out",
            "mase",
            "naive_mase",
            "wape",
            "naive_wape",
            "fitted_at",
        ]
        read_only_fields = fields

    def get_basis_label(self, forecast) -> str:
        return basis_label(forecast)


class SlotForecastViewSet(ScopedReadOnlyViewSet):
    queryset = SlotForecast.objects.order_by("device", "level")
    serializer_class = SlotForecastSerializer
    filterset_fields = ["device", "product", "site", "basis"]
    select_related = ("device", "product", "level__location")


router.register("forecasts", SlotForecastViewSet, basename="forecast")
