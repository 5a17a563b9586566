"""Confirmation and cancellation emails, end to end: service → outbox → Redis → worker → SMTP.

Expected texts come from the catalogue (`translation.override` + gettext), not hard-coded German:
what matters here is that each email is written in its recipient's language.
"""

from __future__ import annotations

import time

import pytest
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from bookings.models import Booking
from bookings.services import booking_cancel
from notifications.models import Delivery
from tests import plugin
from tests.flow import body, book, calendars, make_slots, to
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def high_workers(quiet_world):
    workers = WorkerGroup("high").start()
    yield workers
    workers.stop()


def _expected_subject(msgid: str, booking: Booking, language: str) -> str:
    starts = timezone.localtime(booking.starts_at)
    with translation.override(language):
        return gettext(msgid) % {
            "practice": booking.doctor.practice.name,
            "date": formats.date_format(starts, "SHORT_DATE_FORMAT"),
            "time": formats.time_format(starts, "H:i"),
        }


def _translated(msgid: str, language: str) -> str:
    with translation.override(language):
        return gettext(msgid)


CONFIRMED = "Your appointment at %(practice)s on %(date)s at %(time)s is confirmed"
CANCELLED = "Appointment at %(practice)s on %(date)s at %(time)s cancelled"


def _event(mail):
    (calendar,) = calendars(mail)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _one_mail(address: str, subject: str, timeout: float = 30.0):
    smtp = plugin.smtp_server
    mails = smtp.wait_for(1, timeout=timeout, predicate=lambda m: m["To"] == address and m["Subject"].strip() == subject)
    # Django folds a long encoded subject onto a continuation line; parsers keep its leading blank.
    got = [m["Subject"].strip() for m in smtp.received(to(address))]
    assert len(mails) == 1, f"expected one mail {subject!r} to {address}, got {got}"
    return mails[0]


def _set_language(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def test_it_emails_the_confirmation_with_a_calendar_invitation(quiet_world, high_workers):
    world = quiet_world
    _set_language(world.patient, "en")
    (slot,) = make_slots(world.a.doctor, 1)

    booking = book(world.a, world.patient, slot)

    mail = _one_mail(world.patient.email, _expected_subject(CONFIRMED, booking, "en"))
    assert _translated("Your appointment is confirmed.", "en") in body(mail, "plain")
    assert world.a.practice.name in body(mail, "html")
    assert "<html" in body(mail, "html").lower()
    calendar, event = _event(mail)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"booking-{booking.public_id}@terminfinder"
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.ends_at
    summary = str(event["SUMMARY"])
    assert world.a.practice.name in summary
    assert world.a.reason.name not in summary  # health data stays out of calendar titles
    assert world.a.reason.name not in str(event.get("DESCRIPTION", ""))


def test_it_writes_to_a_german_speaking_patient_in_german(quiet_world, high_workers):
    world = quiet_world
    _set_language(world.patient, "de")
    (slot,) = make_slots(world.a.doctor, 1)

    booking = book(world.a, world.patient, slot)

    german = _expected_subject(CONFIRMED, booking, "de")
    # German dates (dd.mm.yyyy) even while the German catalogue lacks a sentence.
    assert german != _expected_subject(CONFIRMED, booking, "en")
    mail = _one_mail(world.patient.email, german)
    assert _translated("Your appointment is confirmed.", "de") in body(mail, "plain")
    assert body(mail, "html")


def test_it_sends_a_patients_cancellation_to_the_patient_and_the_practice(quiet_world, high_workers):
    world = quiet_world
    _set_language(world.patient, "en")
    (slot,) = make_slots(world.a.doctor, 1)
    booking = book(world.a, world.patient, slot)
    confirmation = _one_mail(world.patient.email, _expected_subject(CONFIRMED, booking, "en"))

    booking_cancel(booking=booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)

    to_patient = _one_mail(world.patient.email, _expected_subject(CANCELLED, booking, "en"))
    to_practice = _one_mail(world.a.practice.email, _expected_subject(CANCELLED, booking, "de"))
    assert _translated("You cancelled this appointment.", "en") in body(to_patient, "plain")
    assert _translated("The patient cancelled this appointment online. The time is free again.", "de") in body(
        to_practice, "plain"
    )
    for mail in (to_patient, to_practice):
        assert body(mail, "html")
        calendar, event = _event(mail)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(event["STATUS"]) == "CANCELLED"
        assert str(event["UID"]) == str(_event(confirmation)[1]["UID"])
        assert event.decoded("DTSTART") == booking.starts_at
        assert world.a.reason.name not in str(event["SUMMARY"])


def test_it_sends_a_practice_cancellation_only_to_the_patient(quiet_world, high_workers):
    world = quiet_world
    smtp = plugin.smtp_server
    (slot,) = make_slots(world.a.doctor, 1)
    booking = book(world.a, world.patient, slot)
    _one_mail(world.patient.email, _expected_subject(CONFIRMED, booking, "de"))

    booking_cancel(
        booking=booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=world.staff_a, reason="Praxis zu"
    )

    mail = _one_mail(world.patient.email, _expected_subject(CANCELLED, booking, "de"))
    assert _translated("The practice cancelled this appointment.", "de") in body(mail, "plain")
    assert str(_event(mail)[0]["METHOD"]) == "CANCEL"
    # The practice's email would go out in the same task run, right after the patient's.
    time.sleep(2)
    assert smtp.received(to(world.a.practice.email)) == []
    cancellations = Delivery.objects.filter(kind=Delivery.Kind.BOOKING_CANCELLATION, object_ref=str(booking.public_id))
    assert cancellations.count() == 1
