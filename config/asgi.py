"""ASGI entry point: HTTP through Django, websockets through Channels routing.

Each app that has live pages exposes `websocket_urlpatterns` in its `routing.py`; they are
collected here so config does not need to know which apps have consumers.
"""

import importlib
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.apps import apps  # noqa: E402

from config.startup import freeze_loaded_objects  # noqa: E402
from staff.websocket import SignInChecksMiddleware  # noqa: E402


def collect_websocket_urlpatterns():
    patterns = []
    # The apps' module names: INSTALLED_APPS may name an AppConfig class instead of a module.
    for app_name in (app_config.name for app_config in apps.get_app_configs()):
        try:
            module = importlib.import_module(f"{app_name}.routing")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_name}.routing":
                raise
            continue
        patterns.extend(getattr(module, "websocket_urlpatterns", []))
    return patterns


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(SignInChecksMiddleware(URLRouter(collect_websocket_urlpatterns())))
        ),
    }
)
freeze_loaded_objects()
