"""References, generated over every write endpoint of the OpenAPI schema: for every input field
that refers to a scoped object (a related field, or an integer `<model>` / `<model>_id` field), a
regional administrator of one region who submits the id of another region's object is refused
with an error on that field (or a 403/404), and the referenced object is unchanged."""

import pytest
from django.forms.models import model_to_dict
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from core.api import ScopedMixin
from tests.factories import SCOPED_BUILDERS, UserFactory

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"POST", "PUT", "PATCH"}
SCOPED_MODELS_BY_NAME = {model._meta.model_name: model for model in SCOPED_BUILDERS}


def _write_endpoints():
    generator = SchemaGenerator()
    generator._initialise_endpoints()
    for path, _regex, method, callback in generator.endpoints:
        if method not in WRITE_METHODS or not issubclass(callback.cls, ScopedMixin):
            continue
        view = generator.create_view(callback, method)
        serializer = view.schema.get_request_serializer()
        if isinstance(serializer, type):
            serializer = serializer()
        if not isinstance(serializer, serializers.Serializer):
            continue
        for name, field in serializer.fields.items():
            if field.read_only:
                continue
            model = _referred_model(name, field)
            if model is not None:
                many = isinstance(field, (serializers.ManyRelatedField, serializers.ListField))
                yield pytest.param(path, method, callback.cls, name, model, many, id=f"{method} {path} {name}")


def _referred_model(name, field):
    relation = getattr(field, "child_relation", field)
    if isinstance(relation, serializers.RelatedField) and getattr(relation, "queryset", None) is not None:
        model = relation.queryset.model
        return model if model in SCOPED_BUILDERS else None
    if isinstance(field, serializers.IntegerField):
        return SCOPED_MODELS_BY_NAME.get(name.removesuffix("_id"))
    return None


def _regional_admin(region):
    from django.contrib.auth.models import Permission

    from core.scoping import SCOPE_ALL_PERMISSION
    from core.services import scope_grant

    app_label, codename = SCOPE_ALL_PERMISSION.split(".")
    user = UserFactory(role="regional_admin")
    # Every model permission, so only the scope of the reference can refuse the request.
    user.user_permissions.add(*Permission.objects.exclude(content_type__app_label=app_label, codename=codename))
    scope_grant(actor=None, user=user, target=region, action="change")
    return user


def _post(client, method, url, name, pk, many):
    response = getattr(client, method.lower())(url, {name: [pk] if many else pk}, format="json")
    errors = response.json() if response.status_code == 400 else {}
    return response, errors if isinstance(errors, dict) else {}


@pytest.mark.parametrize(("path", "method", "viewset", "name", "model", "many"), list(_write_endpoints()))
def test_write_endpoint_refuses_a_reference_outside_the_callers_scope(
    world, api_client, path, method, viewset, name, model, many
):
    east, west = world.east_store.region, world.west_store.region
    insider = SCOPED_BUILDERS[model](east)
    outsider = SCOPED_BUILDERS[model](west)
    before = model_to_dict(outsider)
    url = path
    if "{" in path:
        own_model = viewset.queryset.model
        if own_model not in SCOPED_BUILDERS:
            pytest.skip(f"no builder for {own_model.__name__} to address {path}")
        own = SCOPED_BUILDERS[own_model](east)
        url = path.replace("{id}", str(own.pk)).replace("{pk}", str(own.pk))
    api_client.force_authenticate(_regional_admin(east))

    # The same request with a reference inside the scope: the field itself is accepted, so an
    # error on it below is about the scope, not about its type or form.
    _response, errors = _post(api_client, method, url, name, insider.pk, many)
    assert name not in errors, (url, name, errors)
    before = model_to_dict(outsider)
    response, errors = _post(api_client, method, url, name, outsider.pk, many)

    assert not 200 <= response.status_code < 300, (url, name, response.content[:300])
    assert response.status_code in (403, 404) or name in errors, (url, name, response.content[:300])
    outsider.refresh_from_db()
    assert model_to_dict(outsider) == before
