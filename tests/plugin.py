"""Loaded with `-p tests.plugin` (see pytest.ini) so it runs before pytest-django reads the
settings: it starts the real services the suite needs and points the settings at them.

- PostgreSQL (throwaway cluster); TEST_DATABASE=sqlite runs the suite on SQLite instead, and a
  DATABASE_URL set by the caller is used as it is;
- Redis (a real redis-server configured as a queue), unless REDIS_URL is set;
- an SMTP server (aiosmtpd) that keeps received mail for the tests to read;
- a local OpenAI-compatible HTTP server for the chatbot's phrasing (not configured by default:
  the product runs without OPENAI_API_KEY; tests that want the model point the settings at it).
- a CalDAV server (Radicale), started on first use by the `radicale` fixture (tests/conftest.py).
"""

import atexit
import os
import secrets

import pytest

_servers = []
smtp_server = None
redis_server = None
openai_server = None
_radicale_server = None


def _keep(server):
    _servers.append(server)
    atexit.register(server.stop)
    return server


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global smtp_server, redis_server, openai_server
    from tests.services import OpenAIServer, PostgresServer, RedisServer, SmtpServer

    # A fresh random key per run: production settings demand one, and none is committed.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "terminfinder.settings")
    # Calendar secrets are encrypted with a key from the environment; production has no default.
    from cryptography.fernet import Fernet

    os.environ.setdefault("TERMINFINDER_CALENDAR_KEYS", Fernet.generate_key().decode())
    # The suite's CalDAV and ICS servers listen on loopback over http (calendars/addresses.py).
    os.environ.setdefault("TERMINFINDER_CALENDAR_ALLOW_LOCAL", "1")
    if os.environ.get("TEST_DATABASE", "postgres") == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    elif not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = _keep(PostgresServer().start()).url
    if not os.environ.get("REDIS_URL"):
        redis_server = _keep(RedisServer().start())
        os.environ["REDIS_URL"] = redis_server.url
    smtp_server = _keep(SmtpServer().start())
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(smtp_server.port)
    os.environ.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    openai_server = _keep(OpenAIServer().start())
    # The product's default: no model. A developer's own key must never reach a test.
    os.environ.pop("OPENAI_API_KEY", None)
    os.environ.pop("OPENAI_BASE_URL", None)


def radicale_server():
    """The suite's Radicale, started the first time a test asks for it (workers reach it too:
    it listens on loopback like the other services)."""
    global _radicale_server
    if _radicale_server is None:
        from tests.services import RadicaleServer

        _radicale_server = _keep(RadicaleServer(keep_data=False).start())
    return _radicale_server


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL")
    return [
        f"database: {'PostgreSQL ' + url if url else 'SQLite'}",
        f"redis: {os.environ.get('REDIS_URL')}, smtp: 127.0.0.1:{os.environ.get('EMAIL_PORT')}",
    ]


def pytest_unconfigure(config):
    while _servers:
        _servers.pop().stop()
