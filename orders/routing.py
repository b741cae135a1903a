"""Websocket routes of the orders app (collected by config/asgi.py)."""

from django.urls import path

from orders.consumers import OrdersConsumer

websocket_urlpatterns = [path("ws/orders/", OrdersConsumer.as_asgi())]
