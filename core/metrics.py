"""Prometheus metrics at `/metrics`: django-prometheus's request, response and exception metrics,
plus the product's own gauges, read from the database (and the broker) when scraped: devices
online by state, paid orders per minute, device commands waiting, Celery tasks waiting, failed
notifications. Behind a bearer token (`METRICS_TOKEN`) in production; open in DEBUG without one."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

SALES_WINDOW_MINUTES = 5


def _queue_depth() -> float | None:
    from config.celery import app

    try:
        with app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
        return float(declared.message_count)
    except Exception:  # a broker that is down shows as a missing sample, not a failed scrape
        return None


class ProductCollector:
    def collect(self):
        from core.models import Notification
        from devices.models import Device, DeviceCommand
        from orders.models import Order

        devices = GaugeMetricFamily("backoffice_devices", "Paired devices by state", labels=["state"])
        counts = _state_counts(Device)
        for state in Device.State.values:
            devices.add_metric([state], counts.get(state, 0))
        yield devices

        since = timezone.now() - timedelta(minutes=SALES_WINDOW_MINUTES)
        paid = Order.objects.filter(paid_at__gte=since).count()
        yield GaugeMetricFamily(
            "backoffice_sales_per_minute",
            f"Orders paid per minute, averaged over the last {SALES_WINDOW_MINUTES} minutes",
            value=paid / SALES_WINDOW_MINUTES,
        )
        waiting = DeviceCommand.objects.exclude(status__in=DeviceCommand.FINISHED).count()
        yield GaugeMetricFamily("backoffice_device_commands_pending", "Device commands not finished", value=waiting)
        failed = Notification.objects.filter(status=Notification.Status.FAILED).count()
        yield GaugeMetricFamily("backoffice_notifications_failed", "Notifications that failed", value=failed)
        depth = _queue_depth()
        if depth is not None:
            yield GaugeMetricFamily("backoffice_task_queue_depth", "Celery tasks waiting in the broker", value=depth)


def _state_counts(model) -> dict[str, int]:
    from django.db.models import Count

    rows = model.objects.filter(is_active=True).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


_registered = False


def _register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(ProductCollector())
        _registered = True


def metrics_view(request):
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HttpResponse("A bearer token is needed.\n", status=401, content_type="text/plain")
    elif not settings.DEBUG:
        return HttpResponseNotFound()
    _register()
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
