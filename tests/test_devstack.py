"""`make run`'s supervisor: embedded Redis, web, both worker groups and the scheduler on SQLite;
a booking's confirmation lands in the mail folder README names; the chatbot answers the demo's
FAQ questions with no OpenAI key; Ctrl-C stops every child.

Runs the real `python -m terminfinder.devstack` in its own SQLite database and folders."""

from __future__ import annotations

import json
import os
import re
import urllib.request
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
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "OPENAI_", "CHATBOT_"))
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


FAQ = """
from practices.models import Practice
practice = Practice.objects.get(slug="hausarztpraxis-mitte")
answers = {e.question: e.answer for e in practice.faq_entries.all()}
print("FAQ", json.dumps({"id": str(practice.public_id), "answers": answers}))
"""


def _json(url: str, data: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(data).encode() if data is not None else None,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _chat(base: str, practice_id: str, message: str) -> dict:
    status, body = _json(f"{base}/api/chat/{practice_id}/", {"message": message})
    assert status == 202, body
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, result = _json(base + body["poll_url"])
        assert status == 200, result
        if result["status"] == "done":
            return result
        time.sleep(0.3)
    raise AssertionError(f"no answer to {message!r} within 30 s")


def test_it_runs_the_demo_stack_delivers_a_booking_confirmation_and_answers_faq_questions(tmp_path):
    env = _env(tmp_path)
    assert not any(key.startswith("OPENAI_") for key in env), "the demo runs without an OpenAI key"
    _manage(env, "migrate", "--no-input")
    _manage(env, "demo_data", "--weeks", "1")
    log = tmp_path / "devstack.log"
    port = free_port()
    with open(log, "wb") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "terminfinder.devstack", "--port", str(port)],
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

        # The chatbot: the demo's FAQ answers, German and English, no API key anywhere.
        faq = json.loads(_manage(env, "shell", "-c", "import json\n" + FAQ).split("FAQ", 1)[1])
        base = f"http://127.0.0.1:{port}"
        for message, question in [
            ("Wo kann ich hier parken?", "Wo kann ich parken?"),
            ("Welche Versicherungen nehmen Sie?", "Welche Versicherungen nehmen Sie an?"),
            ("What should I bring to my appointment?", "What should I bring?"),
        ]:
            result = _chat(base, faq["id"], message)
            assert (result["category"], result["source"], result["phrased"]) == ("answered", "faq", False), result
            assert result["answer"] == faq["answers"][question]
        hours = _chat(base, faq["id"], "When are you open?")
        assert hours["source"] == "practice:hours" and "Monday 08:00" in hours["answer"]
        assert "chatbot.answer bot=practice" in log.read_text()

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
