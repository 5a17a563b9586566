"""Real Dramatiq worker processes for tests: `manage.py rundramatiq` against the test database,
the harness's Redis and its SMTP server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

# Short backoffs and fast redelivery so retry and crash tests finish in seconds; the production
# values are in settings.py.
FAST_ENV = {
    "TERMINFINDER_EMAIL_MIN_BACKOFF_MS": "300",
    "TERMINFINDER_EMAIL_MAX_BACKOFF_MS": "3000",
    "TERMINFINDER_EMAIL_MAX_RETRIES": "8",
    "DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "4000",
    # Shorter than the heartbeat timeout, as in production (30 s vs 60 s): a message redelivered
    # after a worker was killed finds the dead worker's claim already run out.
    "TERMINFINDER_DELIVERY_LEASE_SECONDS": "3",
    "DRAMATIQ_MAINTENANCE_CHANCE": "1000000",
    # How long an idle consumer sleeps between polls (dramatiq's default is 1 s): a due retry
    # is picked up within ~0.1 s, so retry timings in tests are the backoff, not the polling.
    "dramatiq_worker_timeout": "100",
}


def test_database_url() -> str:
    """The URL of the database the test process uses right now (pytest-django's test DB)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("Worker tests need PostgreSQL: a SQLite test database is in memory.")
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


class WorkerGroup:
    def __init__(self, *queues: str, processes: int = 1, threads: int = 2, env: dict | None = None):
        self.queues = queues
        self.processes = processes
        self.threads = threads
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix="terminfinder-worker-", suffix=".log")[1])

    def start(self, timeout: float = 60.0) -> WorkerGroup:
        env = {**os.environ, **FAST_ENV, **self.extra_env, "DATABASE_URL": test_database_url()}
        env["PYTHONUNBUFFERED"] = "1"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "manage.py", "rundramatiq",
                    "--processes", str(self.processes),
                    "--threads", str(self.threads),
                    "--worker-shutdown-timeout", "5000",
                    "--queues", *self.queues,
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count("is ready for action") >= self.processes:
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"Worker exited early:\n{self.output()}")
            time.sleep(0.2)
        raise RuntimeError(f"Worker not ready within {timeout:.0f} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group at once: no shutdown, no requeue, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
