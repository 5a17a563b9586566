"""`make run`'s supervisor: embedded Redis, web, both worker groups and the scheduler on SQLite;
a booking's confirmation lands in the mail folder README names; Ctrl-C stops every child.

Runs the real `python -m terminfinder.devstack` in its own SQLite database and folders."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path


from tests.services import free_port

BASE_DIR = Path(__file__).resolve().parent.parent

BOOK = """
from bookings.selectors import slots_free
from bookings.services import booking_create
from terminfinder.accounts.models import User
patient = User.objects.get(email="patient@terminfinder.local")
slot = slots_free().first()
reason = slot.doctor.practice.visit_reasons.order_by("duration_minutes").first()
booking = booking_create(patient=patient, slot=slot, visit_reason=reason, insurance_type="statutory")
print("CODE", booking.code)
"""


def _env(tmp_path: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_"))
    }
    env.update(
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        TERMINFINDER_REDIS_DIR=str(tmp_path / "redis"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _descendants(pid: int) -> set[int]:
    children: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(stat.parent.name)
            children |= {child} | _descendants(child)
    return children


def test_it_runs_the_demo_stack_and_delivers_a_booking_confirmation_to_the_mail_folder(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--no-input")
    _manage(env, "demo_data", "--weeks", "1")
    log = tmp_path / "devstack.log"
    with open(log, "wb") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "terminfinder.devstack", "--port", str(free_port())],
            cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "is ready for action" not in log.read_text() or "Starting scheduler" not in log.read_text():
            assert stack.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        redis_url = re.search(r"Embedded Redis on (redis://\S+)", log.read_text()).group(1)
        code = _manage({**env, "REDIS_URL": redis_url}, "shell", "-c", BOOK).split("CODE")[1].strip()

        deadline = time.monotonic() + 60
        found = []
        while not found and time.monotonic() < deadline:
            found = [p for p in (tmp_path / "mail").glob("*.log") if code in p.read_text(errors="replace")]
            time.sleep(0.5)
        assert found, f"no email with booking code {code} in {tmp_path / 'mail'}\n{log.read_text()[-3000:]}"
        assert "text/calendar" in found[0].read_text()
        children = _descendants(stack.pid)
        assert len(children) >= 5, "web, two worker groups, scheduler and Redis run under the supervisor"
    finally:
        stack.send_signal(signal.SIGINT)  # Ctrl-C
        stack.wait(timeout=60)
    time.sleep(1)
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid)]
    assert alive == [], f"still running after Ctrl-C: {alive}"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "zombie"
