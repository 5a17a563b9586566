"""Which calendar addresses the servers may call. Practice staff type them in, and our workers
then send requests there with the doctor's password: an address must be HTTPS (no password in
clear text) and must not point into our own network (loopback, private, link-local: our Redis,
a cloud metadata service). TERMINFINDER_CALENDAR_ALLOW_LOCAL lifts both for development and the
test suite, whose CalDAV server runs on loopback.

The worker checks again before every sync (calendars.services.calendar_for). A host whose DNS
answer changes between the check and the request is not caught; that needs an egress proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def address_problem(url: str) -> str | None:
    """Why the server must not call `url`, in words for staff; None when it may."""
    if settings.TERMINFINDER_CALENDAR_ALLOW_LOCAL:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https":
        return _("The calendar address must start with https:// (the password must not travel unencrypted).")
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return _("The calendar server's name cannot be resolved.")
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return _("The calendar address points into a private network; use the server's public address.")
    return None
