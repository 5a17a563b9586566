"""The doctor's subscribable ICS feed and the patient's per-booking download."""

from __future__ import annotations

from django.urls import reverse
from icalendar import Calendar

from calendars.models import CalendarFeed
from calendars.services import feed_create, feed_revoke
from tests.conftest import HttpsClient


def test_it_serves_the_doctors_bookings_without_patient_data(world, web):
    feed, token = feed_create(doctor=world.a.doctor)

    response = web.get(reverse("calendars:feed", args=[token]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    uids = {str(event["UID"]) for event in calendar.walk("VEVENT")}
    assert uids == {f"booking-{world.a.booking.public_id}@terminfinder"}
    text = response.content.decode()
    for private in (world.patient.full_name, world.patient.email, world.a.reason.name, world.b.booking.code):
        assert private not in text
    assert world.a.booking.code in text
    assert token not in CalendarFeed.objects.values_list("token_hash", flat=True)


def test_it_answers_404_once_the_token_is_revoked(world, web):
    feed, token = feed_create(doctor=world.a.doctor)
    url = reverse("calendars:feed", args=[token])
    assert web.get(url).status_code == 200

    feed_revoke(feed=feed)

    assert web.get(url).status_code == 404


def test_it_answers_404_to_an_unknown_token_and_to_the_previous_one_after_rotation(world, web):
    _, old = feed_create(doctor=world.a.doctor)
    _, new = feed_create(doctor=world.a.doctor)

    assert web.get(reverse("calendars:feed", args=["not-a-token"])).status_code == 404
    assert web.get(reverse("calendars:feed", args=[old])).status_code == 404
    assert web.get(reverse("calendars:feed", args=[new])).status_code == 200


def test_it_shows_the_feed_url_once_when_staff_create_it_in_admin(world):
    client = HttpsClient()
    client.force_login(world.staff_a)

    response = client.post(reverse("admin:calendars_calendarfeed_add"), {"doctor": world.a.doctor.pk}, follow=True)

    [message] = [str(m) for m in response.context["messages"] if "/kalender/" in str(m)]
    feed = CalendarFeed.objects.get(doctor=world.a.doctor)
    token = message.split("/kalender/", 1)[1].split(".ics", 1)[0]
    assert "webcal://" in message
    assert feed.token_hash and token not in feed.token_hash
    assert client.get(reverse("calendars:feed", args=[token])).status_code == 200
    page = client.get(reverse("admin:calendars_calendarfeed_change", args=[feed.pk])).content.decode()
    assert token not in page


def test_it_lets_the_patient_download_their_booking_and_nobody_else(world, patient_web):
    booking = world.a.booking
    url = reverse("bookings:appointment-ics", args=[booking.public_id])

    response = patient_web.get(url)
    other = HttpsClient()
    other.force_login(world.patient2)

    [event] = Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["UID"]) == f"booking-{booking.public_id}@terminfinder"
    assert event.decoded("DTSTART") == booking.starts_at
    assert other.get(url).status_code == 404
