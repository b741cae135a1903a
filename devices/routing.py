"""Websocket routes of the devices app (collected by config/asgi.py)."""

from django.urls import path

from devices.consumers import DeviceConsumer, FleetConsumer

websocket_urlpatterns = [
    path("ws/fleet/", FleetConsumer.as_asgi()),
    path("ws/devices/<int:pk>/", DeviceConsumer.as_asgi()),
]
