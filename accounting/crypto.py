"""Payout details at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with keys from
settings. `PAYOUT_DETAILS_KEYS` lists urlsafe-base64 Fernet keys, newest first (MultiFernet: the
first encrypts, every one decrypts, so a key can be rotated); without it a key is derived from
SECRET_KEY with HKDF, so the embedded default works and a leaked database alone reveals nothing."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...], secret: str) -> MultiFernet:
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"payout-details", info=b"accounting").derive(
            secret.encode()
        )
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    return MultiFernet([Fernet(key) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(getattr(settings, "PAYOUT_DETAILS_KEYS", ()) or ()), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
