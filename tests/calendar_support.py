"""Fixtures and helpers for the calendar sync tests: a real Radicale (tests/services.py) and
an "upstream" client standing for the doctor's own calendar app."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import caldav
import pytest
from django.conf import settings
from django.utils import timezone
from icalendar import Calendar

from bookings.models import AvailabilityRule, Slot
from bookings.selectors import slots_free
from bookings.services import slots_generate
from calendars.models import CalendarConnection
from calendars.services import connection_set_secret
from tests import plugin
from tests.conftest import make_doctor

BERLIN = ZoneInfo("Europe/Berlin")
USER = "doctor"


class Upstream:
    """The calendar as the doctor's phone sees it: plain CalDAV requests, no Terminfinder code."""

    def __init__(self, server, name: str | None = None) -> None:
        self.server = server
        self.client = caldav.DAVClient(
            url=server.url, username=USER, password=server.users[USER], timeout=10, enable_rfc6764=False,
            auth_type="basic",
        )
        self.calendar = self.client.principal().make_calendar(name="Praxis", cal_id=name or uuid.uuid4().hex)
        self.url = str(self.calendar.url)

    def put(self, name: str, ics: str) -> None:
        response = self.client.put(self.url + name, ics, {"Content-Type": "text/calendar; charset=utf-8"})
        assert response.status in (201, 204), response.status

    def delete(self, name: str) -> None:
        assert self.client.delete(self.url + name).status in (200, 204)

    def get(self, href: str) -> Calendar | None:
        response = self.client.request(f"http://127.0.0.1:{self.server.port}{href}", "GET")
        return Calendar.from_ical(response.raw) if response.status == 200 else None

    def events(self) -> list:
        """Every VEVENT in the collection (all objects)."""
        found = []
        for obj in self.calendar.get_objects_by_sync_token(load_objects=True):
            if obj.data:
                found += Calendar.from_ical(obj.data).walk("VEVENT")
        return found


def vevent(uid: str, start: datetime | date, end: datetime | date, extra: str = "") -> str:
    def fmt(value):
        if isinstance(value, datetime):
            return f";TZID=Europe/Berlin:{value:%Y%m%dT%H%M%S}"
        return f";VALUE=DATE:{value:%Y%m%d}"

    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART{fmt(start)}\r\n"
        f"DTEND{fmt(end)}\r\nSUMMARY:Privat\r\n{extra}END:VEVENT\r\n"
    )


def vcalendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Upstream//Test//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@pytest.fixture(scope="session")
def radicale():
    return plugin.radicale_server()


@pytest.fixture
def upstream(radicale) -> Upstream:
    return Upstream(radicale)


def make_connection(doctor, url: str, *, direction="both", provider="caldav", secret=None) -> CalendarConnection:
    connection = CalendarConnection.objects.create(
        doctor=doctor, provider=provider, url=url, username=USER, direction=direction
    )
    if secret is None and provider != "ics":
        secret = plugin.radicale_server().users[USER]
    if secret:
        connection_set_secret(connection=connection, secret=secret)
    return connection


@pytest.fixture
def connection(world, upstream) -> CalendarConnection:
    return make_connection(world.a.doctor, upstream.url)


@pytest.fixture
def calendar_doctor(world):
    """A doctor of practice A with 30-minute slots 09:00–12:00 every day of the horizon."""
    doctor = make_doctor(world.a.practice, world.specialty, "Doktor Kalender")
    for weekday in range(7):
        AvailabilityRule.objects.create(doctor=doctor, weekday=weekday, start_time=time(9), end_time=time(12), slot_minutes=30)
    today = timezone.localdate()
    slots_generate(
        date_from=today,
        date_until=today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS),
        doctors=[doctor],
    )
    return doctor


def hidden_starts(doctor) -> set[datetime]:
    """Local start times of slots the rules make but that are not free (absent or hidden)."""
    today = timezone.localdate()
    every = set()
    for day in range(1, settings.TERMINFINDER_BOOKING_HORIZON_WEEKS * 7):
        for hour, minute in ((9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30)):
            every.add(local(today + timedelta(days=day), hour, minute))
    free = {s.starts_at.astimezone(BERLIN) for s in slots_free(doctor=doctor)}
    return {start for start in every if start not in free}


def slot_exists(doctor, start: datetime) -> bool:
    return Slot.objects.filter(doctor=doctor, starts_at=start).exists()
