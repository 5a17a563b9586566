"""Production settings, checked the way production starts them: manage.py in a fresh process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def production_env(**overrides: str | None) -> dict[str, str]:
    """The caller's environment without any Django or database setting, plus production values."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DJANGO_") and key not in {"DATABASE_URL", "TEST_DATABASE"}
    }
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="terminfinder.example",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "no issues" in output


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"DJANGO_SECRET_KEY": "short"}, "security.W009"),
        ({"DJANGO_DEBUG": "1"}, "security.W018"),
        ({"DJANGO_SESSION_COOKIE_SECURE": "0"}, "security.W012"),
    ],
)
def test_it_fails_the_deploy_check_when_a_production_setting_is_weak(overrides, warning):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(**overrides))

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


@pytest.mark.parametrize("secret_key", [None, ""])
def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(secret_key):
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=secret_key, DJANGO_DEBUG="0"))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_it_starts_without_a_secret_key_in_debug_mode():
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=None, DJANGO_DEBUG="1"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_has_no_model_changes_without_a_migration(tmp_path):
    # A throwaway SQLite file: makemigrations reads the migration history of the database.
    env = production_env(DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}")

    result = manage("makemigrations", "--check", "--dry-run", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.parametrize("keys", [None, "", "not-a-fernet-key"])
def test_it_refuses_to_run_without_a_calendar_key_when_debug_is_off(keys):
    result = manage("check", env=production_env(TERMINFINDER_CALENDAR_KEYS=keys))

    assert result.returncode != 0
    assert "calendars.E001" in result.stdout + result.stderr


def test_it_derives_a_calendar_key_in_debug_mode():
    result = manage("check", env=production_env(TERMINFINDER_CALENDAR_KEYS=None, DJANGO_DEBUG="1"))

    assert result.returncode == 0, result.stdout + result.stderr
