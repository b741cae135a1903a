"""A machine's heartbeat with a non-finite temperature is a 400 and stores no telemetry."""

import pytest

from devices.models import Telemetry
from devices.services import device_pair
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e309", '"NaN"', '"Infinity"', '"1e309"'])
def test_non_finite_temperature_is_refused(api_client, raw):
    device = DeviceFactory(serial_number="VM-NF-1")
    _device, token = device_pair(serial_number=device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    response = api_client.generic(
        "POST", "/api/v1/device/heartbeat/", f'{{"temperature": {raw}}}', content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert not Telemetry.objects.filter(device=device).exists()


def test_non_finite_number_hidden_in_free_form_data_is_refused(api_client):
    device = DeviceFactory(serial_number="VM-NF-2")
    _device, token = device_pair(serial_number=device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    response = api_client.generic(
        "POST", "/api/v1/device/heartbeat/", '{"data": {"humidity": NaN}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "NaN" in response.json()["detail"]
