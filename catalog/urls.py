from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/new/", views.product_edit, name="product-create"),
    path("products/import/", views.product_import, name="product-import"),
    path("products/import/template/", views.product_import_template, name="product-import-template"),
    path("products/<int:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
]
