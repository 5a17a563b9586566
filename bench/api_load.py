"""Load benchmark of the REST API: gunicorn + PostgreSQL at realistic volume.

    .venv/bin/python -m bench.api_load [--seconds 20] [--concurrency 16] [--workers 4]

Starts real PostgreSQL and Redis servers on loopback (tests/services.py), seeds 20 practices,
100 doctors and 12 weeks of slots, starts gunicorn, then drives three endpoints one after the
other with `--concurrency` keep-alive client threads for `--seconds` each:

- floor: GET /healthz (same stack, one `SELECT 1`): what the machine does at best;
- search: GET /api/slots/ filtered by city, insurance and a date range (first page);
- booking: POST /api/bookings/ with a JWT, each request a different free slot.

Client and server share the machine's cores, so the figures are a lower bound. Appends the
results (throughput and p50/p95/p99 latency) to bench/RESULTS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from bench.common import BASE_DIR, append_results, machine, start_services

CITIES = ["Berlin", "Hamburg", "München", "Köln", "Frankfurt"]


def seed(patients: int):
    from datetime import time as clock

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bookings.models import AvailabilityRule
    from bookings.services import slots_generate
    from practices.models import Doctor, Practice, Specialty, VisitReason
    from terminfinder.accounts.models import User

    call_command("migrate", verbosity=0)
    specialties = [
        Specialty.objects.create(name=f"Fach {i}", slug=f"fach-{i}") for i in range(5)
    ]
    doctors = []
    for p in range(20):
        practice = Practice.objects.create(
            name=f"Praxis {p}", slug=f"praxis-{p}", street="Weg 1", postal_code=f"{10000 + p * 37:05d}",
            city=CITIES[p % len(CITIES)], email=f"praxis{p}@example.org",
        )
        VisitReason.objects.create(practice=practice, name="Sprechstunde", duration_minutes=15)
        for d in range(5):
            doctors.append(Doctor.objects.create(
                practice=practice, specialty=specialties[(p + d) % 5], name=f"Arzt {p}-{d}",
                verification_status=Doctor.Verification.VERIFIED, verified_at=timezone.now(),
            ))
    rules = []
    for doctor in doctors:
        for weekday in range(5):
            rules.append(AvailabilityRule(doctor=doctor, weekday=weekday, start_time=clock(8), end_time=clock(12), slot_minutes=15))
            rules.append(AvailabilityRule(doctor=doctor, weekday=weekday, start_time=clock(14), end_time=clock(17), slot_minutes=15))
    AvailabilityRule.objects.bulk_create(rules)
    today = timezone.localdate()
    result = slots_generate(date_from=today + timedelta(days=1), date_until=today + timedelta(weeks=12))
    users = User.objects.bulk_create(
        [User(email=f"patient{i}@example.org", password="!") for i in range(patients)]
    )
    # A production database has planner statistics (autovacuum analyzes tables that grew):
    # without them PostgreSQL estimates one row per table right after a bulk load and sorts
    # every matching slot for the first page.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return result.created, users


def tokens_for(users) -> list[str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    return [str(RefreshToken.for_user(user).access_token) for user in users]


def free_slot_payloads(count: int) -> list[dict]:
    from bookings.selectors import slots_free

    slots = list(slots_free().select_related("doctor__practice")[: count * 3])
    random.Random(7).shuffle(slots)
    reasons = {}
    payloads = []
    for slot in slots[:count]:
        practice = slot.doctor.practice
        if practice.pk not in reasons:
            reasons[practice.pk] = str(practice.visit_reasons.first().public_id)
        payloads.append({"slot": str(slot.public_id), "visit_reason": reasons[practice.pk], "insurance_type": "statutory"})
    return payloads


def drive(port: int, seconds: float, concurrency: int, make_request) -> dict:
    """Run `make_request(i) -> (method, path, body, headers)` from `concurrency` threads."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop_at = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local_lat, local_status = [], {}
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter)
            request = make_request(i)
            if request is None:
                break
            method, path, body, headers = request
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            local_lat.append(time.perf_counter() - started)
            local_status[status] = local_status.get(status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(local_lat)
            for status, n in local_status.items():
                statuses[status] = statuses.get(status, 0) + n

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else float("nan")

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        "statuses": dict(sorted(statuses.items())),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    options = parser.parse_args()

    services = start_services(
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        # The benchmark measures the stack, not the throttle.
        TERMINFINDER_API_BOOKING_RATE="1000000/minute",
        LOG_LEVEL="WARNING",
    )
    gunicorn = None
    try:
        import django

        django.setup()
        from tests.services import free_port, wait_for_port

        print("Seeding 20 practices, 100 doctors, 12 weeks of slots ...", flush=True)
        t0 = time.monotonic()
        slot_count, users = seed(patients=2000)
        print(f"  {slot_count} slots in {time.monotonic() - t0:.0f} s", flush=True)
        tokens = tokens_for(users)
        payloads = free_slot_payloads(20000)
        port = free_port()
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "terminfinder.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", str(options.workers), "--keep-alive", "30", "--log-level", "warning"],
            cwd=BASE_DIR, env=os.environ.copy(),
        )
        wait_for_port(port, timeout=60)
        time.sleep(2)
        date_from = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
        date_until = (datetime.now(UTC) + timedelta(days=21)).date().isoformat()

        def floor(i):
            return "GET", "/healthz", None, {}

        def search(i):
            query = urlencode({"city": CITIES[i % len(CITIES)], "insurance": "statutory",
                               "date_from": date_from, "date_until": date_until})
            return "GET", f"/api/slots/?{query}", None, {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}

        def book(i):
            if i >= len(payloads):
                return None
            return "POST", "/api/bookings/", json.dumps(payloads[i]), {
                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                "Content-Type": "application/json",
            }

        results = {}
        for name, fn in (("floor: GET /healthz", floor), ("free-slot search: GET /api/slots/", search),
                         ("booking: POST /api/bookings/", book)):
            drive(port, 2, options.concurrency, floor)  # warm-up
            print(f"Driving {name} ...", flush=True)
            results[name] = drive(port, options.seconds, options.concurrency, fn)
            print(f"  {results[name]}", flush=True)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        services.stop()
    write_results(results, options, slot_count)
    return 0


def write_results(results: dict, options, slot_count: int) -> None:
    lines = [
        "",
        f"## REST API under load — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. "
        f"`python -m bench.api_load --seconds {options.seconds:g} --concurrency {options.concurrency} "
        f"--workers {options.workers}`: gunicorn ({options.workers} sync workers) + PostgreSQL, 20 practices, "
        f"100 doctors, {slot_count} slots (12 weeks); client threads on the same machine.",
        "",
        "| endpoint | requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | statuses |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
        lines.append(
            f"| {name} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {statuses} |"
        )
    append_results(lines)


if __name__ == "__main__":
    raise SystemExit(main())
