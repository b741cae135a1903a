from django.urls import path

from gateway import views

app_name = "gateway"
urlpatterns = [
    path("dex/", views.DexReadListView.as_view(), name="dex-list"),
    path("dex/upload/", views.dex_upload, name="dex-upload"),
    path("dex/<int:pk>/", views.DexReadDetailView.as_view(), name="dex-detail"),
]
