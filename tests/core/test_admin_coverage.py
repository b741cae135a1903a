"""Every model of the project is in the Django admin, and every admin page opens without an error."""

import pathlib

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

# Internal bookkeeping rows nobody edits by hand.
NOT_IN_ADMIN = {"orders.OrderSequence", "core.Heartbeat"}


def _project_models():
    root = pathlib.Path(settings.BASE_DIR).resolve()
    return [
        model
        for model in apps.get_models()
        if pathlib.Path(model._meta.app_config.path).resolve().parent == root
        and not model._meta.auto_created
        and model._meta.label not in NOT_IN_ADMIN
    ]


def test_every_project_model_is_registered_in_the_admin():
    inlined = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    missing = sorted(m._meta.label for m in _project_models() if not admin.site.is_registered(m) and m not in inlined)
    assert missing == []


@pytest.mark.django_db
def test_every_admin_changelist_and_add_page_opens_for_a_superuser(client, django_user_model):
    from tests.factories import build_world

    build_world()
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-12345-x"))
    failures = []
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        urls = [reverse("admin:%s_%s_changelist" % info)]
        request = type("R", (), {"user": django_user_model.objects.get(username="root"), "GET": {}, "method": "GET"})
        if model_admin.has_add_permission(request):
            urls.append(reverse("admin:%s_%s_add" % info))
        for url in urls:
            status = client.get(url).status_code
            if status != 200:
                failures.append((url, status))
    assert failures == []
