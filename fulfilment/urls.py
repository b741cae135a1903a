"""Console pages of delivery orders under /fulfilment/; packing and shipping add theirs."""

from django.urls import include, path

from fulfilment import views

app_name = "fulfilment"
urlpatterns = [
    path("orders/new/", views.delivery_new, name="delivery-new"),
    path("orders/<int:pk>/edit/", views.delivery_edit, name="delivery-edit"),
    path("orders/<int:pk>/release/", views.delivery_release_view, name="delivery-release"),
    path("orders/<int:pk>/cancel/", views.delivery_cancel_view, name="delivery-cancel"),
    path("held/", views.held_list, name="held-list"),
    path("import/", views.delivery_import, name="import"),
    path("layouts/", views.mapping_list, name="mapping-list"),
    path("layouts/<int:pk>/", views.mapping_edit, name="mapping-edit"),
    path("", include("fulfilment.packing_urls")),
    path("", include("fulfilment.shipping_urls")),
]
