"""What every benchmark shares: starting the real services on loopback (the test harness's own,
tests/services.py) with the settings pointed at them, and the machine line of RESULTS.md."""

from __future__ import annotations

import os
import platform
import secrets
import sys
from pathlib import Path
from types import SimpleNamespace

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
RESULTS = BASE_DIR / "bench" / "RESULTS.md"


class Services(SimpleNamespace):
    def stop(self) -> None:
        for name in ("radicale", "smtp"):
            server = getattr(self, name, None)
            if server is not None:
                server.stop(remove_data=True) if name == "radicale" else server.stop()
        if self.redis is not None:
            self.redis.stop(remove_data=True)
        self.pg.stop()


def start_services(*, smtp: bool = False, radicale: bool = False, **env: str) -> Services:
    """PostgreSQL and Redis (and SMTP, Radicale if asked), the environment pointed at them, plus
    `env`. Call .stop() when done."""
    from tests.services import PostgresServer, RadicaleServer, RedisServer, SmtpServer

    services = Services(pg=PostgresServer().start(), redis=None, smtp=None, radicale=None)
    try:
        services.redis = RedisServer().start()
        os.environ.update(
            DATABASE_URL=services.pg.url,
            REDIS_URL=services.redis.url,
            DJANGO_SETTINGS_MODULE="terminfinder.settings",
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        )
        if smtp:
            services.smtp = SmtpServer().start()
            os.environ.update(
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(services.smtp.port),
                # With DEBUG the default backend prints to the terminal; the benchmark times real SMTP.
                DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            )
        if radicale:
            services.radicale = RadicaleServer().start()
    except BaseException:
        services.stop()  # what did start must not outlive a failed start
        raise
    os.environ.update(env)
    return services


def machine() -> str:
    """"2 cores, <CPU model>, Python 3.11.7, Linux" for the results' Machine line."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


def append_results(lines: list[str]) -> None:
    """Print a results section and append it to bench/RESULTS.md."""
    text = "\n".join(lines) + "\n"
    print(text)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach section names the command, the machine and the date.\n")
    with RESULTS.open("a") as handle:
        handle.write(text)
