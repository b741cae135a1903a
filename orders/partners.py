"""API partners (online shops, couriers, platforms): issuing and revoking their keys, finding the
partner behind a key, what a partner may use, and the checks on its webhook URL. The HTTP side
is orders/partner_api.py; webhooks are orders/webhooks.py (docs/adr/0012)."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import audit_record
from orders.models import PartnerClient

KEY_PREFIX = "ptn_"
SECRET_PREFIX = "whsec_"
# What the console shows to tell keys apart: the scheme prefix and eight random characters.
SHOWN_PREFIX_LENGTH = 12
# `last_used_at` is written at most this often per key, not on every request.
LAST_USED_RESOLUTION_SECONDS = 300


@dataclass(frozen=True)
class IssuedKey:
    client: PartnerClient
    key: str
    webhook_secret: str


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- Webhook URLs ------------------------------------------------------------------------------
def _local_allowed() -> bool:
    """http:// and private addresses are for local testing: on with DEBUG, or when
    PARTNER_WEBHOOK_ALLOW_LOCAL says so; never by default in production."""
    return bool(getattr(settings, "PARTNER_WEBHOOK_ALLOW_LOCAL", settings.DEBUG))


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str, *, resolve: bool = True) -> None:
    """Refuse a webhook URL we would not send to: not https (outside local testing), with
    credentials, or naming (or resolving to) a loopback, private, link-local or reserved
    address — the partner must not make us call into our own network (SSRF)."""
    if not url:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise ValidationError({"webhook_url": _("A webhook URL starts with https://.")})
    if parts.scheme != "https" and not _local_allowed():
        raise ValidationError({"webhook_url": _("Webhook URLs must use https:// in production.")})
    if parts.username or parts.password:
        raise ValidationError({"webhook_url": _("A webhook URL cannot carry a user name or password.")})
    host = parts.hostname or ""
    if not host:
        raise ValidationError({"webhook_url": _("The webhook URL has no host name.")})
    if _local_allowed():
        return
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError({"webhook_url": _("Webhooks cannot be sent to a local or private address.")})
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(host, parts.port or 443)})
        except (OSError, UnicodeError):
            raise ValidationError(
                {"webhook_url": _("The webhook host name %(host)s does not resolve.") % {"host": host}}
            ) from None
    if not all(_address_is_public(address.split("%")[0]) for address in addresses):
        raise ValidationError({"webhook_url": _("Webhooks cannot be sent to a local or private address.")})


# --- Keys ----------------------------------------------------------------------------------------
def partner_scope_check(*, region, sites=(), banks=()) -> None:
    """The stores and banks a partner is given lie in its region."""
    outside = [str(site) for site in sites if not site.region.path.startswith(region.path)]
    outside += [str(bank) for bank in banks if not bank.site.region.path.startswith(region.path)]
    if outside:
        raise ValidationError(
            _("%(names)s not in the partner's region %(region)s.") % {"names": ", ".join(outside), "region": region}
        )
    not_banks = [str(bank) for bank in banks if bank.kind != bank.Kind.LOCKER]
    if not_banks:
        raise ValidationError({"banks": _("%(names)s: not locker banks.") % {"names": ", ".join(not_banks)}})


@transaction.atomic
def partner_client_create(
    *, actor, name: str, kind: str, region, sites=(), banks=(), webhook_url: str = ""
) -> IssuedKey:
    """A new API partner with its key and webhook secret; both are returned once, here, and only
    the key's hash is kept."""
    sites, banks = list(sites), list(banks)
    webhook_url_check(webhook_url)
    partner_scope_check(region=region, sites=sites, banks=banks)
    key, secret = _new_key(), _new_secret()
    client = PartnerClient.objects.create(
        name=name,
        kind=kind,
        region=region,
        key_prefix=key[:SHOWN_PREFIX_LENGTH],
        key_hash=key_hash(key),
        webhook_url=webhook_url,
        webhook_secret=secret,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    client.sites.set(sites)
    client.banks.set(banks)
    audit_record(
        actor=actor,
        action="partner.create",
        obj=client,
        changes={
            "key_prefix": client.key_prefix,
            "sites": [s.pk for s in sites],
            "banks": [b.pk for b in banks],
            "webhook_url": webhook_url,
        },
        region=region,
    )
    return IssuedKey(client=client, key=key, webhook_secret=secret)


@transaction.atomic
def partner_client_update(*, client: PartnerClient, actor, sites, banks, webhook_url: str) -> PartnerClient:
    """Change what a partner may use and where its webhooks go (its key stays)."""
    sites, banks = list(sites), list(banks)
    webhook_url_check(webhook_url)
    partner_scope_check(region=client.region, sites=sites, banks=banks)
    client.webhook_url = webhook_url
    client.save(update_fields=["webhook_url"])
    client.sites.set(sites)
    client.banks.set(banks)
    audit_record(
        actor=actor,
        action="partner.update",
        obj=client,
        changes={"sites": [s.pk for s in sites], "banks": [b.pk for b in banks], "webhook_url": webhook_url},
        region=client.region,
    )
    return client


def partner_key_rotate(*, client: PartnerClient, actor) -> str:
    """A new key for an active partner (a leaked key, a staff change on their side): the old key
    stops working at once, the partner keeps its orders. The new key is returned once."""
    key = _new_key()
    changed = PartnerClient.objects.filter(pk=client.pk, is_active=True).update(
        key_hash=key_hash(key), key_prefix=key[:SHOWN_PREFIX_LENGTH]
    )
    if not changed:
        raise ValidationError(_("This key is revoked; create a new API partner instead."))
    client.refresh_from_db()
    audit_record(
        actor=actor,
        action="partner.key_rotate",
        obj=client,
        changes={"key_prefix": client.key_prefix},
        region=client.region,
    )
    return key


def partner_client_revoke(*, client: PartnerClient, actor) -> PartnerClient:
    """The key stops working at once; orders and the delivery log stay. Revoking twice is a no-op."""
    now = timezone.now()
    changed = PartnerClient.objects.filter(pk=client.pk, is_active=True).update(
        is_active=False, revoked_at=now, revoked_by=actor if getattr(actor, "is_authenticated", False) else None
    )
    client.refresh_from_db()
    if changed:
        audit_record(actor=actor, action="partner.revoke", obj=client, region=client.region)
    return client


def partner_for_key(key: str) -> PartnerClient | None:
    """The active partner holding `key`, or None (unknown, malformed or revoked)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    client = PartnerClient.objects.select_related("region").filter(key_hash=key_hash(key), is_active=True).first()
    if client is None:
        return None
    now = timezone.now()
    if client.last_used_at is None or (now - client.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        PartnerClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


# --- What a partner may use ---------------------------------------------------------------------
def partner_may_use(client: PartnerClient, *, site=None, bank=None) -> None:
    """Raise PermissionDenied, saying which, unless the partner was given this store and this
    locker bank. Every partner endpoint that creates something at a place calls it first."""
    if site is not None and not client.sites.filter(pk=getattr(site, "pk", site)).exists():
        raise PermissionDenied(_("This API key may not use the store or site %(site)s.") % {"site": site})
    if bank is not None and not client.banks.filter(pk=getattr(bank, "pk", bank)).exists():
        raise PermissionDenied(_("This API key may not use the locker bank %(bank)s.") % {"bank": bank})
