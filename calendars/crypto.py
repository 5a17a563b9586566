"""Connection secrets encrypted at rest (Fernet), with keys from the environment.

TERMINFINDER_CALENDAR_KEYS holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a key is rotated by putting the new one first. Production (DEBUG off)
has no fallback: without a key nothing is encrypted or decrypted (and the system check
calendars.E001 fails). With DEBUG on (the demo) a key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured keys (a key was dropped)."""


def _keys() -> list[bytes]:
    keys = [key.encode() for key in settings.TERMINFINDER_CALENDAR_KEYS]
    if not keys and settings.DEBUG:
        digest = hashlib.sha256(b"terminfinder.calendars:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest)]
    if not keys:
        raise ImproperlyConfigured(
            "TERMINFINDER_CALENDAR_KEYS is not set: calendar passwords cannot be stored safely. "
            "Generate a key with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    return keys


def keys_problem() -> str | None:
    """Why the configured keys cannot be used, or None."""
    try:
        for key in _keys():
            Fernet(key)
    except ImproperlyConfigured as error:
        return str(error)
    except (ValueError, TypeError):
        return "TERMINFINDER_CALENDAR_KEYS holds a value that is not a Fernet key (32 bytes, url-safe base64)."
    return None


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable() from None
