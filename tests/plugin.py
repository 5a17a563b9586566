"""Loaded with `-p tests.plugin` (see pytest.ini) so it runs before pytest-django reads the
settings: it starts the real services the suite needs and points the settings at them.

TEST_DATABASE=sqlite runs the suite on SQLite instead; a DATABASE_URL set by the caller is
used as it is.
"""

import atexit
import os
import secrets

import pytest

_servers = []


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A fresh random key per run: production settings demand one, and none is committed.
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "terminfinder.settings")
    if os.environ.get("TEST_DATABASE", "postgres") == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        return
    if os.environ.get("DATABASE_URL"):
        return
    from tests.services import PostgresServer

    server = PostgresServer().start()
    _servers.append(server)
    atexit.register(server.stop)
    os.environ["DATABASE_URL"] = server.url


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL")
    return f"database: {'PostgreSQL ' + url if url else 'SQLite'}"


def pytest_unconfigure(config):
    while _servers:
        _servers.pop().stop()
