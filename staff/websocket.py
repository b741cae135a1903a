"""The websocket handshake's sign-in checks, the same ones HTTP applies: an active user and, where
settings.STAFF_OTP_REQUIRED asks for it, a session verified with the second factor.

HTTP gets these from django-otp's OTPMiddleware and RequireSecondFactorMiddleware; a websocket
never passes through them, so this ASGI middleware sits in the websocket stack after the session
and auth middleware and hands the consumers an anonymous user when they fail. Scope checks stay with
each consumer.
"""

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


def _checked_user(scope):
    """The scope's user if the session passes the HTTP sign-in checks, else an anonymous user."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return AnonymousUser()
    if not user.is_active:
        return AnonymousUser()
    if getattr(settings, "STAFF_OTP_REQUIRED", False):
        from staff.otp import needs_second_factor

        if needs_second_factor(user):
            session = scope.get("session")
            persistent_id = session.get(DEVICE_ID_SESSION_KEY) if session is not None else None
            device = Device.from_persistent_id(persistent_id) if persistent_id else None
            if device is None or device.user_id != user.pk or not device.confirmed:
                return AnonymousUser()
    return user


class SignInChecksMiddleware:
    """Refuses the websocket handshake of an inactive user or an unverified administrator session."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            # A session that fails the checks is treated as signed out: every consumer already
            # refuses anonymous users, so none can forget this.
            scope = dict(scope, user=await database_sync_to_async(_checked_user)(scope))
        return await self.inner(scope, receive, send)


def user_group(user_id: int) -> str:
    """The group every websocket of one user joins, so their account can reach all of them."""
    return f"user.{user_id}"


class UserSocket:
    """Mixin for every console consumer: joins the user's group, closes the socket when the
    account is deactivated (staff_set_active sends `user.deactivated` to that group), and follows
    the user's grants while it is open (core.services.scope_grant / scope_revoke send
    `grants.changed`): a consumer that joins scope groups computes them in `scope_groups()` and
    keeps them in `groups_joined`; on a change they are recomputed, the socket leaves the groups it
    lost and joins the ones it gained, and the page is told with a `{"type": "scope"}` message (or
    the socket closes with 4403 when nothing is left in scope). ADR 15."""

    groups_joined: list[str]

    async def websocket_connect(self, message):
        user = self.scope.get("user")
        if user is not None and user.is_authenticated and self.channel_layer is not None:
            self._user_group = user_group(user.pk)
            await self.channel_layer.group_add(self._user_group, self.channel_name)
        await super().websocket_connect(message)

    async def websocket_disconnect(self, message):
        group = getattr(self, "_user_group", None)
        if group is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().websocket_disconnect(message)

    async def user_deactivated(self, event):
        await self.close(code=4401)

    async def grants_changed(self, event):
        compute = getattr(self, "scope_groups", None)
        user = self.scope.get("user")
        if compute is None or user is None:
            return
        from core.scoping import forget_grants

        # The socket's user object cached its grants at the handshake; a lazy user caches them on
        # the wrapper, its permissions on the wrapped user.
        forget_grants(user)
        forget_grants(getattr(user, "_wrapped", user))
        old = list(getattr(self, "groups_joined", []))
        new = await compute()
        for group in set(old) - set(new):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(new) - set(old):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = new
        if not new:
            await self.close(code=4403)
            return
        if set(new) != set(old):
            await self.send_json({"type": "scope"})
