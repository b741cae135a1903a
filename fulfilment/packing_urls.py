"""The picking pages' URLs, under /fulfilment/ in the "fulfilment" namespace."""

from django.urls import path

from fulfilment import packing_views

urlpatterns = [
    path("picking/", packing_views.picking_home, name="packing-home"),
    path("picking/<int:warehouse>/", packing_views.pick_list, name="packing-list"),
    path("picking/orders/<int:pk>/", packing_views.pick_order, name="packing-order"),
    path("picking/orders/<int:pk>/start/", packing_views.pick_start, name="packing-start"),
    path("picking/orders/<int:pk>/scan/", packing_views.pick_scan, name="packing-scan"),
]
