"""Google Calendar's CalDAV endpoint takes OAuth 2 bearer tokens. Google cannot be reached from
here: this test starts a tiny local HTTP server playing both Google's token endpoint and a
CalDAV endpoint that only accepts the fresh token, to prove the refresh path."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from calendars import crypto
from calendars.models import CalendarConnection
from calendars.services import connection_test
from tests.calendar_support import make_connection

MULTISTATUS = (
    '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
    "<d:response><d:href>/caldav/v2/x/events/</d:href><d:propstat><d:prop><d:resourcetype>"
    "<d:collection/><c:calendar/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
    "</d:propstat></d:response></d:multistatus>"
)


class FakeGoogle(BaseHTTPRequestHandler):
    refreshes: list = []

    def do_POST(self):  # noqa: N802 - the token endpoint
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        type(self).refreshes.append(form)
        body = json.dumps({"access_token": "fresh-access", "expires_in": 3600}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PROPFIND(self):  # noqa: N802 - the CalDAV endpoint
        if self.headers.get("Content-Length"):
            self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Authorization") != "Bearer fresh-access":
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="google"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = MULTISTATUS.encode()
        self.send_response(207)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def google(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGoogle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeGoogle.refreshes = []
    settings.TERMINFINDER_GOOGLE_TOKEN_URL = f"http://127.0.0.1:{server.server_port}/token"
    settings.TERMINFINDER_GOOGLE_CLIENT_ID = "client-id"
    yield server
    server.shutdown()


def test_it_refreshes_an_expired_google_token_and_stores_the_new_one_encrypted(world, google):
    tokens = {"access_token": "stale-access", "expires_at": time.time() + 3600, "refresh_token": "refresh-1"}
    connection = make_connection(
        world.a.doctor,
        f"http://127.0.0.1:{google.server_port}/caldav/v2/x/events/",
        provider="google",
        secret=json.dumps(tokens),
    )

    assert connection_test(connection=connection) == ""

    [refresh] = FakeGoogle.refreshes
    assert refresh["grant_type"] == ["refresh_token"] and refresh["refresh_token"] == ["refresh-1"]
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.OK
    assert "fresh-access" not in connection.secret_encrypted
    stored = json.loads(crypto.decrypt(connection.secret_encrypted))
    assert stored["access_token"] == "fresh-access" and stored["refresh_token"] == "refresh-1"
