from django.urls import path

from fulfilment import shipping_views as views

urlpatterns = [
    path("shipping/", views.ShippingListView.as_view(), name="shipping-list"),
    path("shipping/labels/", views.ShippingLabelsView.as_view(), name="shipping-labels"),
    path("shipping/<int:pk>/ship/", views.ShipView.as_view(), name="shipping-ship"),
    path("carriers/<slug:carrier>/push/", views.CarrierPushView.as_view(), name="carrier-push"),
    path("returns/", views.ReturnListView.as_view(), name="return-list"),
    path("returns/report/", views.ReturnReportView.as_view(), name="return-report"),
    path("returns/new/<int:pk>/", views.ReturnCreateView.as_view(), name="return-create"),
    path("returns/<int:pk>/", views.ReturnDetailView.as_view(), name="return-detail"),
    path("returns/<int:pk>/scan/", views.ReturnScanView.as_view(), name="return-scan"),
    path("returns/items/<int:pk>/inspect/", views.ReturnInspectView.as_view(), name="return-inspect"),
]
