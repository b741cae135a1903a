"""API permission classes (kept apart from core.api so DRF settings can import them early)."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Role permissions decide whether a user may use a kind of object at all (view included);
    scoping (`restrict`) decides which rows."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }
