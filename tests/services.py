"""Real services for the test suite and the benchmarks, started on loopback and thrown away.

PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres`
system user (or `nobody`) in a private temporary directory.

Standalone: `python -m tests.services postgres` starts a server, prints its DATABASE_URL and
keeps it running until Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"Nothing answered on 127.0.0.1:{port} within {timeout:.0f} s")


def postgres_bindir() -> Path:
    """Where initdb and postgres live: $PG_BINDIR, Debian's newest version, or $PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, postgres) were not found. Install them "
        "(Debian: apt-get install postgresql) or set PG_BINDIR, or run the suite on SQLite "
        "with TEST_DATABASE=sqlite."
    )


class PostgresServer:
    """A throwaway PostgreSQL cluster tuned for tests (no fsync: nothing here must survive)."""

    role = "terminfinder"
    database = "terminfinder"

    def __init__(self) -> None:
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="terminfinder-pg-"))
        self.datadir = self.tmpdir / "data"
        self.process: subprocess.Popen | None = None
        self._run_as: str | None = None
        if os.geteuid() == 0:
            self._run_as = "postgres" if _user_exists("postgres") else "nobody"
            account = pwd.getpwnam(self._run_as)
            os.chown(self.tmpdir, account.pw_uid, account.pw_gid)
            os.chmod(self.tmpdir, 0o700)

    @property
    def url(self) -> str:
        return f"postgres://{self.role}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(args), user=self._run_as, check=True, capture_output=True, cwd=self.tmpdir, **kwargs
        )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.datadir),
            "-U", self.role,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        log = open(self.tmpdir / "postgres.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [
                str(self.bindir / "postgres"),
                "-D", str(self.datadir),
                "-h", "127.0.0.1",
                "-p", str(self.port),
                "-k", str(self.tmpdir),
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
                "-c", "max_connections=300",
                "-c", "shared_buffers=128MB",
            ],
            user=self._run_as,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.tmpdir,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "PostgreSQL did not start:\n" + (self.tmpdir / "postgres.log").read_text()
                )
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("PostgreSQL did not become ready within 60 s")
        self._run(
            str(self.bindir / "createdb"),
            "-h", "127.0.0.1", "-p", str(self.port), "-U", self.role, self.database,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def main(argv: list[str]) -> int:
    if argv[:1] != ["postgres"]:
        print("usage: python -m tests.services postgres", file=sys.stderr)
        return 2
    server = PostgresServer().start()
    print(f"DATABASE_URL={server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
