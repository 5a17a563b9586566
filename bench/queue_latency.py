"""How long a booking confirmation takes to reach the SMTP server while `low` has a backlog.

    .venv/bin/python -m bench.queue_latency [--backlog 2000] [--bookings 20]

Starts real PostgreSQL, Redis and SMTP servers on loopback (tests/services.py), fills `low` with
`--backlog` messages of `--task-ms` (50) ms each, then books `--bookings` appointments, one every 0.5 s, and
measures from the booking's commit to the email's arrival. Two worker layouts run side by side:

- split: `high` in its own worker group, `default` + `low` in another (Terminfinder's layout);
- shared: one worker group for all three queues, the same number of threads in total.

Appends the figures to bench/RESULTS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import BASE_DIR, append_results, machine, start_services


def seed(bookings: int):
    from django.core.management import call_command
    from django.utils import timezone

    from bookings.models import Slot
    from practices.models import Doctor, Practice, Specialty, VisitReason
    from terminfinder.accounts.models import User

    call_command("migrate", verbosity=0)
    specialty = Specialty.objects.create(name="Allgemeinmedizin", slug="allgemeinmedizin")
    practice = Practice.objects.create(
        name="Bench", slug="bench", street="Weg 1", postal_code="10115", city="Berlin", email="bench@example.org"
    )
    doctor = Doctor.objects.create(
        practice=practice, specialty=specialty, name="Bench", verification_status="verified"
    )
    reason = VisitReason.objects.create(practice=practice, name="Sprechstunde", duration_minutes=10)
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    slots = [
        Slot.objects.create(doctor=doctor, starts_at=start + timedelta(minutes=15 * i),
                            ends_at=start + timedelta(minutes=15 * i + 15))
        for i in range(bookings * 2)
    ]
    patients = [User.objects.create_user(email=f"bench{i}@example.org", password=None) for i in range(bookings)]
    return slots, patients, reason


def worker(queues: list[str], threads: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable, "-m", "dramatiq", "--processes", "1", "--threads", str(threads),
            "django_dramatiq.setup", "terminfinder.outbox.tasks", "notifications.tasks", "bench.slow_actor",
            "--queues", *queues,
        ],
        cwd=BASE_DIR, env=os.environ.copy(), stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(procs: list[subprocess.Popen], logs: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("is ready for action" in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.2)
    raise RuntimeError("workers did not start: " + " | ".join(log.read_text()[-500:] for log in logs))


def run_layout(name, layout, slots, patients, reason, smtp, backlog, task_ms) -> dict:
    import dramatiq

    from bench.slow_actor import bench_sleep
    from bookings.services import booking_create

    broker = dramatiq.get_broker()
    broker.flush_all()
    smtp.clear()
    for _ in range(backlog):
        bench_sleep.send(task_ms)
    logs, procs = [], []
    for index, (queues, threads) in enumerate(layout):
        log = Path(f"/tmp/terminfinder-bench-{name}-{index}.log")
        logs.append(log)
        procs.append(worker(queues, threads, log))
    try:
        wait_ready(procs, logs)
        time.sleep(2)  # let the backlog workers get busy
        # Arrival times are taken by polling the SMTP server's inbox every 20 ms.
        committed, seen = {}, {}
        for patient, slot in zip(patients, slots, strict=False):
            booking_create(patient=patient, slot=slot, visit_reason=reason, insurance_type="statutory")
            committed[patient.email] = time.monotonic()
            pause_until = time.monotonic() + 0.5
            while time.monotonic() < pause_until:
                for message in list(smtp.messages):
                    seen.setdefault(message["To"], time.monotonic())
                time.sleep(0.02)
        received = dict(seen)
        deadline = time.monotonic() + 300
        while len(received) < len(committed) and time.monotonic() < deadline:
            for message in list(smtp.messages):
                received.setdefault(message["To"], time.monotonic())
            time.sleep(0.02)
        low_left = broker.client.llen(f"{broker.namespace}:low")
    finally:
        for proc in procs:
            os.killpg(proc.pid, 15)
        for proc in procs:
            proc.wait(timeout=30)
    latencies = sorted(received[email] - committed[email] for email in committed if email in received)
    return {
        "layout": name,
        "delivered": f"{len(latencies)}/{len(committed)}",
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)],
        "max": latencies[-1],
        "low_left": low_left,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--bookings", type=int, default=20)
    parser.add_argument("--task-ms", type=int, default=50, help="Duration of each `low` message.")
    options = parser.parse_args()
    services = start_services(smtp=True, DJANGO_DEBUG="1")
    smtp = services.smtp
    try:
        import django

        django.setup()
        from bookings.models import Booking

        slots, patients, reason = seed(options.bookings * 2)
        results = []
        layouts = {
            "split (high alone; default+low)": [(["high"], 2), (["default", "low"], 4)],
            "shared (one group for all)": [(["high", "default", "low"], 6)],
        }
        for index, (name, layout) in enumerate(layouts.items()):
            part = slice(index * options.bookings, (index + 1) * options.bookings)
            Booking.objects.all().delete()
            results.append(
                run_layout(name, layout, slots[part], patients[part], reason, smtp, options.backlog, options.task_ms)
            )
    finally:
        services.stop()
    write_results(results, options)
    return 0


def write_results(results, options) -> None:
    lines = [
        "",
        f"## Confirmation latency behind a `low` backlog — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. "
        f"`python -m bench.queue_latency --backlog {options.backlog} --bookings {options.bookings} "
        f"--task-ms {options.task_ms}`: {options.backlog} messages of {options.task_ms} ms queued on `low`, "
        "then one booking every 0.5 s; latency "
        "from the booking's commit to the email at the SMTP server.",
        "",
        "| worker layout | delivered | p50 (s) | p95 (s) | max (s) | `low` messages still queued after |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['layout']} | {r['delivered']} | {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | {r['low_left']} |"
        )
    append_results(lines)


if __name__ == "__main__":
    raise SystemExit(main())
