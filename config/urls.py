"""Top-level URLs: the console pages of each app, the Django admin, the API and its schema."""

import importlib

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api import router
from core.health import HealthView
from core.metrics import metrics_view
from core.views import favicon

# Each app's api.py registers its viewsets on the shared router when its urls are imported.
CONSOLE_APPS = [
    "staff",
    "members",
    "catalog",
    "inventory",
    "devices",
    "gateway",
    "orders",
    "vending",
    "lockers",
    "pickup",
    "leasing",
    "wallet",
    "fulfilment",
    "accounting",
    "reports",
]

urlpatterns = [
    path("favicon.ico", favicon),
    path("health/", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("core.urls")),
]
for _app in ["core", *CONSOLE_APPS]:
    if _app != "core":
        urlpatterns.append(path(f"{_app}/", include(f"{_app}.urls")))
    importlib.import_module(f"{_app}.api")
urlpatterns.append(path("api/v1/", include(router.urls)))

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
