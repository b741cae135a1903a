"""The websocket handshake applies the HTTP sign-in checks (a password-only administrator session is
refused on /ws/fleet/ and /ws/orders/), and deactivating a user closes their open sockets."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _close_executor_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


def _password_session(user) -> str:
    client = Client()
    client.force_login(user)  # signed in with the password only
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def _verified_session(user) -> str:
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = client.post(reverse("staff:otp-verify"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302, response
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def _connect(path: str, session_key: str) -> bool:
    from config.asgi import application

    communicator = WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session_key}".encode()),
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
        ],
    )
    connected, _code = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize("path", ["/ws/fleet/", "/ws/orders/"])
async def test_password_only_admin_session_is_refused_when_otp_required(world, settings, path):
    settings.STAFF_OTP_REQUIRED = True
    session = await sync_to_async(_password_session)(world.regional)
    assert not await _connect(path, session)


@pytest.mark.parametrize("path", ["/ws/fleet/", "/ws/orders/"])
async def test_verified_admin_session_is_accepted(world, settings, path):
    settings.STAFF_OTP_REQUIRED = True
    session = await sync_to_async(_verified_session)(world.regional)
    assert await _connect(path, session)


async def test_deactivating_a_user_closes_their_open_websocket(world):
    from rest_framework.test import APIClient

    from config.asgi import application

    session = await sync_to_async(_password_session)(world.clerk)
    communicator = WebsocketCommunicator(
        application,
        "/ws/orders/",
        headers=[
            (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={session}".encode()),
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
        ],
    )
    connected, _code = await communicator.connect()
    assert connected

    def deactivate():
        api = APIClient()
        api.force_authenticate(world.admin)
        profile_id = world.clerk.profile.pk
        response = api.post(f"/api/v1/staff-profiles/{profile_id}/deactivate/", {"reason": "left"}, format="json")
        assert response.status_code == 200, response.content

    await sync_to_async(deactivate)()
    closed = await communicator.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4401}
