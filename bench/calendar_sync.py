"""Calendar sync against a real CalDAV server: push, full pull, incremental pull by size.

    .venv/bin/python -m bench.calendar_sync [--bookings 1000] [--events 1000] [--sizes 100,5000]

Starts real PostgreSQL, Redis and Radicale servers on loopback (tests/services.py) and calls the
calendar services in this process (what an actor does, without the queue):

- push: `connection_push_all` for a doctor with `--bookings` upcoming bookings (one PUT each,
  If-None-Match: *), then again (nothing changed: no PUT at all);
- pull: a calendar with `--events` events inside the booking horizon, pulled in full into busy
  blocks (multiget in batches, slots re-cut for every touched day);
- incremental: calendars of each size in `--sizes` (events spread over the past year and the
  horizon, like a real calendar with history); after the first full pull one event is changed
  and pulled incrementally, `--rounds` times; the median is reported with the requests made.

Appends the figures to bench/RESULTS.md with the machine and date.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from bench.common import append_results, machine, start_services

REQUESTS = {"count": 0, "seconds": 0.0}


def count_requests() -> None:
    """Count every HTTP request the CalDAV library makes (the figure next to each time)."""
    import caldav

    original = caldav.DAVClient.request

    def counted(self, *args, **kwargs):
        REQUESTS["count"] += 1
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            REQUESTS["seconds"] += time.perf_counter() - t0

    caldav.DAVClient.request = counted


def seed_doctor(name: str):
    from datetime import time as clock

    from django.conf import settings
    from django.utils import timezone

    from bookings.models import AvailabilityRule
    from bookings.services import slots_generate
    from practices.models import Doctor, Practice, Specialty, VisitReason

    specialty, _ = Specialty.objects.get_or_create(name="Allgemeinmedizin", slug="allgemeinmedizin")
    practice = Practice.objects.create(
        name=f"Praxis {name}", slug=f"praxis-{name}", street="Weg 1", postal_code="10115", city="Berlin",
        email=f"{name}@example.org",
    )
    reason = VisitReason.objects.create(practice=practice, name="Sprechstunde", duration_minutes=15)
    doctor = Doctor.objects.create(practice=practice, specialty=specialty, name=name, verification_status="verified")
    for weekday in range(5):
        AvailabilityRule.objects.create(
            doctor=doctor, weekday=weekday, start_time=clock(8), end_time=clock(18), slot_minutes=15
        )
    today = timezone.localdate()
    slots_generate(
        date_from=today, date_until=today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS),
        doctors=[doctor],
    )
    return doctor, reason


def make_calendar(radicale, cal_id: str):
    import caldav

    client = caldav.DAVClient(
        url=radicale.url, username="doctor", password=radicale.users["doctor"], timeout=30,
        enable_rfc6764=False, auth_type="basic",
    )
    calendar = client.principal().make_calendar(name=cal_id, cal_id=cal_id)
    return client, str(calendar.url)


def ics(uid: str, start: datetime, minutes: int = 30) -> str:
    end = start + timedelta(minutes=minutes)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{end:%Y%m%dT%H%M%SZ}\r\nSUMMARY:Termin\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def upload(client, url: str, count: int, first_day: int, last_day: int) -> None:
    span = last_day - first_day
    base = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    for i in range(count):
        day = first_day + (i * span) // max(count, 1)
        start = base + timedelta(days=day, minutes=30 * (i % 18))
        client.put(f"{url}e{i}.ics", ics(f"e{i}", start), {"Content-Type": "text/calendar"})


def seed_files(radicale, cal_id: str, count: int, first_day: int, last_day: int) -> None:
    folder = radicale.tmpdir / "collections" / "collection-root" / "doctor" / cal_id
    span = last_day - first_day
    base = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    for i in range(count):
        day = first_day + (i * span) // max(count, 1)
        (folder / f"e{i}.ics").write_text(ics(f"e{i}", base + timedelta(days=day, minutes=30 * (i % 18))))


def connection_for(doctor, url: str, radicale, direction: str):
    from calendars.models import CalendarConnection
    from calendars.services import connection_set_secret

    connection = CalendarConnection.objects.create(
        doctor=doctor, provider="caldav", url=url, username="doctor", direction=direction
    )
    connection_set_secret(connection=connection, secret=radicale.users["doctor"])
    return connection


def timed(fn):
    """(seconds, requests, seconds waiting for the server, result)"""
    REQUESTS["count"], REQUESTS["seconds"] = 0, 0.0
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, REQUESTS["count"], REQUESTS["seconds"], result


def bench_push(radicale, bookings: int) -> list[tuple]:
    from bookings.models import Booking, Slot
    from calendars.services import connection_push_all
    from terminfinder.accounts.models import User

    doctor, reason = seed_doctor("push")
    _, url = make_calendar(radicale, "push")
    connection = connection_for(doctor, url, radicale, "push")
    patient = User.objects.create_user(email="bench-patient@example.org", password=None)
    slots = list(Slot.objects.filter(doctor=doctor).order_by("starts_at")[:bookings])
    Booking.objects.bulk_create(
        Booking(slot=s, doctor=doctor, starts_at=s.starts_at, ends_at=s.ends_at, patient=patient,
                insurance_type="statutory", visit_reason=reason)
        for s in slots
    )
    first = timed(lambda: connection_push_all(connection=connection))
    again = timed(lambda: connection_push_all(connection=connection))
    return [(f"push {len(slots)} new bookings", *first), (f"push again, {len(slots)} unchanged", *again)]


def bench_pull(radicale, events: int, horizon_days: int) -> tuple:
    from calendars.services import connection_pull

    doctor, _ = seed_doctor("pull")
    client, url = make_calendar(radicale, "pull")
    upload(client, url, events, 1, horizon_days - 1)
    connection = connection_for(doctor, url, radicale, "pull")
    seconds, requests, waiting, result = timed(lambda: connection_pull(connection=connection))
    return (f"pull {events} events (full)", seconds, requests, waiting,
            {"fetched": result.fetched, "blocks": result.blocks_created})


def bench_incremental(radicale, size: int, rounds: int, horizon_days: int) -> list[tuple]:
    from calendars.services import connection_pull

    doctor, _ = seed_doctor(f"inc{size}")
    client, url = make_calendar(radicale, f"inc{size}")
    t0 = time.perf_counter()
    # Seeded straight into Radicale's folder (one PUT each makes Radicale re-list the
    # collection, so 5,000 PUTs take minutes); what is measured below is all over HTTP.
    seed_files(radicale, f"inc{size}", size, -365, horizon_days - 1)
    # Radicale parses files it has not seen on the first listing (a PUT would have done it):
    # warm its cache outside the measurement, with a generous timeout.
    warm = type(client)(url=radicale.url, username="doctor", password=radicale.users["doctor"], timeout=600,
                        enable_rfc6764=False, auth_type="basic")
    warm.request(url, "PROPFIND", "", {"Depth": "1"})
    print(f"  seeded {size} events in {time.perf_counter() - t0:.0f} s", flush=True)
    connection = connection_for(doctor, url, radicale, "pull")
    first = timed(lambda: connection_pull(connection=connection))
    samples = []
    base = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    for i in range(rounds):
        client.put(f"{url}e{size - 1}.ics", ics(f"e{size - 1}", base + timedelta(days=3, minutes=30 * (i % 10))),
                   {"Content-Type": "text/calendar"})
        samples.append(timed(lambda: connection_pull(connection=connection)))
    middle = sorted(samples, key=lambda s: s[0])[len(samples) // 2]
    return [
        (f"calendar of {size}: first pull (full)", *first[:3], {"fetched": first[3].fetched}),
        (f"calendar of {size}: incremental, 1 change (median of {rounds})", *middle[:3],
         {"fetched": middle[3].fetched, "full": middle[3].full}),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--sizes", default="100,5000")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    services = start_services(radicale=True, DJANGO_DEBUG="1", LOG_LEVEL="WARNING")
    radicale = services.radicale
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        count_requests()
        horizon_days = settings.TERMINFINDER_BOOKING_HORIZON_WEEKS * 7
        rows = []
        print("Push ...", flush=True)
        rows += bench_push(radicale, options.bookings)
        print("Pull ...", flush=True)
        rows.append(bench_pull(radicale, options.events, horizon_days))
        for size in [int(s) for s in options.sizes.split(",")]:
            print(f"Incremental, calendar of {size} ...", flush=True)
            rows += bench_incremental(radicale, size, options.rounds, horizon_days)
    finally:
        services.stop()
    write_results(rows, options)
    return 0


def write_results(rows, options) -> None:
    lines = [
        "",
        f"## Calendar sync (CalDAV, Radicale) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. "
        f"`python -m bench.calendar_sync --bookings {options.bookings} --events {options.events} "
        f"--sizes {options.sizes} --rounds {options.rounds}`: PostgreSQL, Radicale 3 (file storage) and the "
        "calendar services in one process on the same machine; a doctor with 15-minute slots Mon–Fri 8–18 "
        "over the 12-week horizon.",
        "",
        "| run | seconds | HTTP requests | of which waiting for Radicale (s) | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, seconds, requests, waiting, result in rows:
        lines.append(f"| {name} | {seconds:.3f} | {requests} | {waiting:.3f} | {result} |")
    append_results(lines)


if __name__ == "__main__":
    raise SystemExit(main())
