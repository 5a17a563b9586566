"""The only module that talks to calendar servers: CalDAV (through the caldav library) and
published ICS files (plain HTTP GET). Every call has a timeout.

Errors come out as three kinds: `CalendarUnreachable` (network, timeout, 5xx, 429: try again
later), `CalendarRefused` (wrong password, no such calendar: retrying will not help) and
`EventConflict` (a conditional request failed: someone changed or created the event). Their
messages name the HTTP status or the exception class, never a URL, a credential or content.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import caldav
import niquests
from caldav.lib import error as dav_error
from django.conf import settings

from .models import CalendarConnection

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
MULTIGET_BATCH = 200


class CalendarError(Exception):
    pass


class CalendarUnreachable(CalendarError):
    pass


class CalendarRefused(CalendarError):
    pass


class EventConflict(CalendarError):
    pass


@dataclass
class RemoteObject:
    href: str  # the path on the server
    etag: str
    data: str


@dataclass
class Changes:
    """What changed since `token` (or everything, `full=True`)."""

    full: bool
    token: str
    changed: list[RemoteObject] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # hrefs
    unchanged: bool = False


def href_of(url) -> str:
    return urlsplit(str(url)).path


def _status_error(status: int, what: str) -> CalendarError:
    if status in (401, 403, 404, 405, 410):
        return CalendarRefused(f"{what}: HTTP {status}")
    return CalendarUnreachable(f"{what}: HTTP {status}")


class _Network:
    """Turns the libraries' exceptions into ours, without their messages (URLs, bodies)."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        if value is None or isinstance(value, CalendarError):
            return False
        if isinstance(value, dav_error.AuthorizationError):
            raise CalendarRefused(f"{self.what}: not authorised") from None
        if isinstance(value, dav_error.NotFoundError):
            raise CalendarRefused(f"{self.what}: not found") from None
        if isinstance(value, dav_error.RateLimitError):
            raise CalendarUnreachable(f"{self.what}: rate limited") from None
        if isinstance(value, (niquests.exceptions.RequestException, OSError)):
            raise CalendarUnreachable(f"{self.what}: {type(value).__name__}") from None
        if isinstance(value, dav_error.DAVError):
            raise CalendarUnreachable(f"{self.what}: {type(value).__name__}") from None
        return False


class CalDAVCalendar:
    """One calendar collection. `secret` is the password (CalDAV, iCloud) or, for Google, the
    OAuth tokens as JSON (or a bare refresh token); `save_secret` stores a refreshed one."""

    def __init__(self, connection: CalendarConnection, secret: str, save_secret=None, timeout: int | None = None):
        self.connection = connection
        self.url = connection.url if connection.url.endswith("/") else connection.url + "/"
        self.timeout = timeout or settings.TERMINFINDER_CALENDAR_TIMEOUT
        self.secret = secret
        self.save_secret = save_secret
        self._client: caldav.DAVClient | None = None

    # --- transport -------------------------------------------------------------------------

    def _google_tokens(self) -> dict:
        try:
            tokens = json.loads(self.secret)
        except ValueError:
            tokens = {"refresh_token": self.secret}
        return tokens if isinstance(tokens, dict) else {"refresh_token": str(tokens)}

    def _refresh_google_token(self) -> str:
        tokens = self._google_tokens()
        if not tokens.get("refresh_token"):
            raise CalendarRefused("oauth: no refresh token")
        with _Network("oauth refresh"):
            response = niquests.post(
                settings.TERMINFINDER_GOOGLE_TOKEN_URL,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": settings.TERMINFINDER_GOOGLE_CLIENT_ID,
                    "client_secret": settings.TERMINFINDER_GOOGLE_CLIENT_SECRET,
                },
                timeout=self.timeout,
            )
        if response.status_code != 200:
            raise _status_error(response.status_code if response.status_code < 500 else 503, "oauth refresh")
        answer = response.json()
        tokens["access_token"] = answer["access_token"]
        tokens["expires_at"] = time.time() + int(answer.get("expires_in", 3600)) - 60
        if answer.get("refresh_token"):
            tokens["refresh_token"] = answer["refresh_token"]
        self.secret = json.dumps(tokens)
        if self.save_secret:
            self.save_secret(self.secret)
        self._client = None
        return tokens["access_token"]

    def _google_access_token(self) -> str:
        tokens = self._google_tokens()
        if tokens.get("access_token") and tokens.get("expires_at", 0) > time.time():
            return tokens["access_token"]
        return self._refresh_google_token()

    def client(self) -> caldav.DAVClient:
        if self._client is None:
            common = {"url": self.url, "timeout": self.timeout, "enable_rfc6764": False}
            if self.connection.provider == CalendarConnection.Provider.GOOGLE:
                self._client = caldav.DAVClient(
                    **common, password=self._google_access_token(), auth_type="bearer"
                )
            else:
                # Basic auth sent up front (over TLS in production): one round trip less per
                # client than waiting for the 401 challenge.
                self._client = caldav.DAVClient(
                    **common,
                    username=self.connection.username or None,
                    password=self.secret or None,
                    auth_type="basic" if self.connection.username else None,
                )
        return self._client

    def _request(self, what: str, url: str, method: str, body: str = "", headers: dict | None = None):
        """One request; for Google a 401 refreshes the access token once and tries again."""
        for attempt in (1, 2):
            try:
                with _Network(what):
                    return self.client().request(url, method, body, headers or {})
            except CalendarRefused:
                google = self.connection.provider == CalendarConnection.Provider.GOOGLE
                if attempt == 2 or not google:
                    raise
                self._refresh_google_token()
        raise AssertionError("unreachable")

    def _calendar(self) -> caldav.Calendar:
        return caldav.Calendar(client=self.client(), url=self.url)

    def _object_url(self, href: str) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{href}"

    def event_href(self, name: str) -> str:
        return href_of(self.url) + name

    # --- events ----------------------------------------------------------------------------

    def create(self, href: str, data: bytes) -> str:
        """PUT only if nothing is there (If-None-Match: *); the new ETag ('' if not sent)."""
        response = self._request(
            "create", self._object_url(href), "PUT", data.decode(),
            {"If-None-Match": "*", "Content-Type": CALENDAR_CONTENT_TYPE},
        )
        if response.status == 412:
            raise EventConflict("create: an event exists at this address")
        if response.status not in (200, 201, 204):
            raise _status_error(response.status, "create")
        return response.headers.get("ETag") or self.etag(href)

    def update(self, href: str, data: bytes, etag: str) -> str:
        """PUT only if the event is still the one we wrote (If-Match)."""
        response = self._request(
            "update", self._object_url(href), "PUT", data.decode(),
            {"If-Match": etag, "Content-Type": CALENDAR_CONTENT_TYPE},
        )
        if response.status == 412:
            raise EventConflict("update: the event was changed in the calendar")
        if response.status == 404:
            raise EventConflict("update: the event was deleted in the calendar")
        if response.status not in (200, 201, 204):
            raise _status_error(response.status, "update")
        return response.headers.get("ETag") or self.etag(href)

    def delete(self, href: str, etag: str) -> None:
        """DELETE only if the event is still the one we wrote; gone already is fine."""
        headers = {"If-Match": etag} if etag else {}
        response = self._request("delete", self._object_url(href), "DELETE", "", headers)
        if response.status == 412:
            raise EventConflict("delete: the event was changed in the calendar")
        if response.status not in (200, 204, 404, 410):
            raise _status_error(response.status, "delete")

    def get(self, href: str) -> RemoteObject | None:
        response = self._request("get", self._object_url(href), "GET")
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise _status_error(response.status, "get")
        return RemoteObject(href=href, etag=response.headers.get("ETag", ""), data=response.raw)

    def etag(self, href: str) -> str:
        response = self._request("head", self._object_url(href), "HEAD")
        return response.headers.get("ETag", "") if response.status == 200 else ""

    # --- pulling ---------------------------------------------------------------------------

    def check(self) -> None:
        """A cheap request that proves URL and credentials: PROPFIND depth 0 on the calendar."""
        body = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'
        response = self._request(
            "check", self.url, "PROPFIND", body, {"Depth": "0", "Content-Type": "application/xml"}
        )
        if response.status != 207:
            raise _status_error(response.status, "check")
        if "calendar" not in response.raw:
            raise CalendarRefused("check: the address is not a calendar")

    def changes(self, token: str) -> Changes:
        """Changes since `token` by sync-collection (RFC 6578); everything when there is no
        token or the server forgot it (the library then falls back to a full listing)."""
        for attempt in (1, 2):
            try:
                with _Network("sync"):
                    result = self._calendar().get_objects_by_sync_token(sync_token=token or None)
                break
            except CalendarRefused:
                if attempt == 2 or self.connection.provider != CalendarConnection.Provider.GOOGLE:
                    raise
                self._refresh_google_token()
        new_token = str(result.sync_token or "")
        full = not token or new_token.startswith("fake-")
        if full and token and new_token == token:
            return Changes(full=False, token=new_token, unchanged=True)
        deleted = {href_of(url) for url in result.deleted_urls}
        wanted = [
            (href_of(obj.url), obj.props.get("{DAV:}getetag", ""))
            for obj in result.objects
            if href_of(obj.url) not in deleted
        ]
        changed = self._fetch(wanted, preloaded={href_of(o.url): o for o in result.objects})
        return Changes(full=full, token=new_token, changed=changed, deleted=sorted(deleted))

    def _fetch(self, wanted: list[tuple[str, str]], preloaded: dict) -> list[RemoteObject]:
        found: list[RemoteObject] = []
        missing = []
        for href, etag in wanted:
            obj = preloaded.get(href)
            data = getattr(obj, "_data", None) if obj is not None else None
            if data:
                found.append(RemoteObject(href=href, etag=etag, data=str(obj.data)))
            else:
                missing.append(href)
        calendar = self._calendar()
        for start in range(0, len(missing), MULTIGET_BATCH):
            batch = missing[start : start + MULTIGET_BATCH]
            with _Network("multiget"):
                objects = calendar.multiget([caldav.lib.url.URL.objectify(self._object_url(h)) for h in batch])
            for obj in objects:
                etag = (obj.props or {}).get("{DAV:}getetag", "")
                found.append(RemoteObject(href=href_of(obj.url), etag=etag, data=str(obj.data)))
        return found


class IcsCalendar:
    """A published ICS file (Outlook / Microsoft 365 "publish calendar", any ICS URL): always a
    full import, skipped when the server says it did not change (ETag)."""

    def __init__(self, connection: CalendarConnection, timeout: int | None = None):
        self.connection = connection
        self.timeout = timeout or settings.TERMINFINDER_CALENDAR_TIMEOUT

    def _get(self, token: str = "") -> tuple[object, bytes]:
        """The response and its body, at most TERMINFINDER_CALENDAR_MAX_ICS_BYTES of it.
        Redirects are not followed: the address staff entered is the one that was checked."""
        headers = {"Accept": "text/calendar"}
        if token:
            headers["If-None-Match"] = token
        limit = settings.TERMINFINDER_CALENDAR_MAX_ICS_BYTES
        with _Network("ics"):
            response = niquests.get(
                self.connection.url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False
            )
            if response.status_code not in (200, 304):
                raise _status_error(response.status_code, "ics")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise CalendarRefused(f"ics: the calendar file is larger than {limit // 1_000_000} MB")
        return response, bytes(body)

    def check(self) -> None:
        _, body = self._get()
        if b"BEGIN:VCALENDAR" not in body[:2000]:
            raise CalendarRefused("check: the address is not an ICS calendar")

    def changes(self, token: str) -> Changes:
        response, body = self._get(token)
        if response.status_code == 304:
            return Changes(full=False, token=token, unchanged=True)
        href = href_of(self.connection.url) or "/"
        etag = response.headers.get("ETag", "")
        data = body.decode("utf-8", errors="replace")
        return Changes(full=True, token=etag, changed=[RemoteObject(href=href, etag=etag, data=data)])
