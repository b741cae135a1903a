"""The API describes itself: a valid OpenAPI 3 schema and a Swagger UI that needs no CDN."""

import pytest
import yaml
from drf_spectacular.validation import validate_schema


@pytest.mark.django_db
def test_schema_is_valid_openapi_3_and_lists_the_v1_endpoints(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-12345-x"))
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    assert any(path.startswith("/api/v1/orders/") for path in schema["paths"])


@pytest.mark.django_db
def test_swagger_ui_renders_from_local_static_files(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-12345-x"))
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui" in body
    assert "cdn.jsdelivr.net" not in body and "unpkg.com" not in body
