"""Patient pages through the Django test client: search, practice page, week view, booking,
my appointments, cancelling, alerts and the account. Real database, real templates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import AvailabilityRule, Booking, Slot, SlotAlert
from bookings.services import booking_create
from practices.models import Doctor, VisitReason
from tests.conftest import HttpsClient, make_doctor, make_slot, make_user


@pytest.fixture
def free(world):
    """Free slots of practice A's doctor: two in the day after the booked one, one a week on."""
    doctor = world.a.doctor
    return [
        make_slot(doctor, days=4, hour=9, minutes=30),
        make_slot(doctor, days=4, hour=11, minutes=30),
        make_slot(doctor, days=11, hour=9, minutes=30),
    ]


def picker_url(doctor, reason, insurance="statutory", **extra) -> str:
    query = f"insurance={insurance}&reason={reason.public_id}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return reverse("bookings:doctor-slots", args=[doctor.public_id]) + "?" + query


def book_url(slot, reason, insurance="statutory") -> str:
    return reverse("bookings:book", args=[slot.public_id]) + f"?insurance={insurance}&reason={reason.public_id}"


def booking_form(client, slot, reason, **overrides) -> dict:
    page = client.get(book_url(slot, reason))
    assert page.status_code == 200
    key = page.context["form"].initial["idempotency_key"]
    data = {"reason": reason.public_id, "insurance": "statutory", "note": "", "idempotency_key": key}
    return data | overrides


# --- Search --------------------------------------------------------------------------------


def test_it_finds_doctors_of_a_city_with_their_next_free_slots(world, free, web):
    response = web.get(reverse("bookings:search"), {"place": "Berlin", "insurance": "statutory", "specialty": world.specialty.slug})

    assert response.status_code == 200
    results = response.context["results"]
    assert [hit.doctor for hit in results] == [world.a.doctor]
    assert results[0].slots == free[:2] + free[2:3]
    body = response.content.decode()
    assert "Praxis Alpha" in body and "Praxis Beta" not in body


def test_it_finds_by_postal_code_prefix(world, free, web):
    make_slot(world.b.doctor, days=5)

    berlin = web.get(reverse("bookings:search"), {"place": "101", "insurance": "statutory"})
    munich = web.get(reverse("bookings:search"), {"place": "803", "insurance": "statutory"})
    nowhere = web.get(reverse("bookings:search"), {"place": "999", "insurance": "statutory"})

    assert {hit.practice for hit in berlin.context["results"]} == {world.a.practice}
    assert {hit.practice for hit in munich.context["results"]} == {world.b.practice}
    assert nowhere.context["results"] == []


def test_it_filters_the_search_by_visit_reason_and_insurance(world, free, web):
    VisitReason.objects.create(practice=world.a.practice, name="Impfung", name_en="Vaccination", accepts_private=False)

    vaccination = web.get(reverse("bookings:search"), {"reason": "vaccin", "insurance": "statutory"})
    private = web.get(reverse("bookings:search"), {"reason": "vaccin", "insurance": "private"})

    assert [(hit.doctor, hit.visit_reason.name) for hit in vaccination.context["results"]] == [(world.a.doctor, "Impfung")]
    assert private.context["results"] == []


def test_it_offers_an_alert_when_nothing_fits(world, web):
    response = web.get(
        reverse("bookings:search"),
        {"place": "Hamburg", "insurance": "statutory", "specialty": world.specialty.slug},
        headers={"accept-language": "en"},
    )

    assert response.context["results"] == []
    assert reverse("bookings:alert-new") + f"?specialty={world.specialty.slug}" in response.content.decode()


# --- Practice page and week view ------------------------------------------------------------


def test_it_shows_the_practice_with_address_hours_doctors_and_faq(world, web):
    make_doctor(world.a.practice, world.specialty, "Unverified Person", verified=False)

    response = web.get(reverse("practices:detail", args=[world.a.practice.public_id]))

    body = response.content.decode()
    assert response.status_code == 200
    for text in ("Praxis Alpha", "Hauptstraße 1", "10115 Berlin", "08:00 – 18:00", "Doktor Praxis Alpha", "Wo ist Praxis Alpha?"):
        assert text in body
    assert "Unverified Person" not in body
    assert reverse("bookings:doctor-slots", args=[world.a.doctor.public_id]) in body


def test_it_answers_404_for_an_inactive_practice_and_an_unverified_doctor(world, web):
    world.b.practice.is_active = False
    world.b.practice.save()
    pending = make_doctor(world.a.practice, world.specialty, "Neu", verified=False)

    assert web.get(reverse("practices:detail", args=[world.b.practice.public_id])).status_code == 404
    assert web.get(reverse("bookings:doctor-slots", args=[pending.public_id])).status_code == 404


def test_it_shows_only_slots_bookable_for_the_chosen_visit_reason(world, free, web):
    long_reason = VisitReason.objects.create(practice=world.a.practice, name="Lang", duration_minutes=45)
    only_here = VisitReason.objects.create(practice=world.a.practice, name="Speziell", duration_minutes=15)
    rule = AvailabilityRule.objects.create(doctor=world.a.doctor, weekday=2, start_time="13:00", end_time="14:00")
    rule.visit_reasons.set([only_here])
    Slot.objects.filter(pk=free[1].pk).update(rule=rule)

    def shown(reason):
        response = web.get(picker_url(world.a.doctor, reason, week=free[0].starts_at.date().isoformat()))
        assert response.status_code == 200
        return [slot for _, slots in response.context["days"] for slot in slots]

    assert shown(world.a.reason) == [free[0]]
    assert shown(only_here) == free[:2]
    assert shown(long_reason) == []


def test_it_hides_the_slots_of_a_visit_reason_the_insurance_does_not_cover(world, free, web):
    world.a.reason.accepts_self_pay = False
    world.a.reason.save()

    response = web.get(picker_url(world.a.doctor, world.a.reason, insurance="self_pay"))

    assert response.status_code == 200
    assert all(not slots for _, slots in response.context["days"])


def test_it_moves_a_week_at_a_time(world, free, web):
    first_week = free[0].starts_at.date()
    response = web.get(picker_url(world.a.doctor, world.a.reason, week=first_week.isoformat()))
    next_link = response.context["next_week"]

    following = web.get(reverse("bookings:doctor-slots", args=[world.a.doctor.public_id]) + "?" + next_link)

    assert following.context["monday"] == response.context["monday"] + timedelta(days=7)
    assert free[2] in [slot for _, slots in following.context["days"] for slot in slots]
    assert free[2] not in [slot for _, slots in response.context["days"] for slot in slots]
    back = web.get(reverse("bookings:doctor-slots", args=[world.a.doctor.public_id]) + "?" + following.context["previous_week"])
    assert back.context["monday"] == response.context["monday"]


def test_it_does_not_go_back_before_this_week(world, web):
    last_year = (timezone.localdate() - timedelta(days=365)).isoformat()

    response = web.get(picker_url(world.a.doctor, world.a.reason, week=last_year))

    assert response.context["monday"] == timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    assert response.context["previous_week"] is None


# --- Booking -----------------------------------------------------------------------------


def test_it_sends_a_visitor_to_log_in_and_back_to_the_slot(world, free, web):
    response = web.get(book_url(free[0], world.a.reason))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert str(free[0].public_id) in response["Location"]


def test_it_books_and_shows_the_confirmation_with_a_calendar_download(world, free, patient_web):
    data = booking_form(patient_web, free[0], world.a.reason, new_patient="on", note="Bitte Rückruf")

    response = patient_web.post(book_url(free[0], world.a.reason), data)

    booking = Booking.objects.get(slot=free[0], status=Booking.Status.CONFIRMED)
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:appointment", args=[booking.public_id])
    assert (booking.patient, booking.new_patient, booking.note) == (world.patient, True, "Bitte Rückruf")
    page = patient_web.get(response["Location"])
    assert booking.code in page.content.decode()
    ics = patient_web.get(reverse("bookings:appointment-ics", args=[booking.public_id]))
    assert ics["Content-Type"].startswith("text/calendar")
    assert f"UID:booking-{booking.public_id}@terminfinder" in ics.content.decode()


def test_it_answers_a_slot_taken_meanwhile_with_a_message_and_fresh_slots(world, free, patient_web):
    data = booking_form(patient_web, free[0], world.a.reason)
    booking_create(patient=world.patient2, slot=free[0], visit_reason=world.a.reason, insurance_type="statutory")

    response = patient_web.post(book_url(free[0], world.a.reason), data)

    assert response.status_code == 409
    assert response.context["taken"]
    assert free[0] not in response.context["fresh_slots"]
    assert free[1] in response.context["fresh_slots"]
    assert reverse("bookings:book", args=[free[1].public_id]) in response.content.decode()
    assert not Booking.objects.filter(patient=world.patient, slot=free[0]).exists()


def test_it_books_once_when_the_form_is_sent_twice(world, free, patient_web):
    data = booking_form(patient_web, free[0], world.a.reason)

    first = patient_web.post(book_url(free[0], world.a.reason), data)
    second = patient_web.post(book_url(free[0], world.a.reason), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Booking.objects.filter(patient=world.patient, slot=free[0]).count() == 1


def test_it_shows_a_form_error_for_a_reason_not_for_new_patients(world, free, patient_web):
    world.a.reason.new_patients_allowed = False
    world.a.reason.save()
    data = booking_form(patient_web, free[0], world.a.reason, new_patient="on")

    response = patient_web.post(book_url(free[0], world.a.reason), data)

    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not Booking.objects.filter(slot=free[0]).exists()


# --- My appointments and cancelling -------------------------------------------------------


def test_it_lists_upcoming_and_past_appointments(world, free, patient_web):
    past_slot = Slot.objects.create(
        doctor=world.a.doctor, starts_at=timezone.now() - timedelta(days=2), ends_at=timezone.now() - timedelta(days=2, minutes=-30)
    )
    past = Booking.objects.create(
        slot=past_slot, doctor=world.a.doctor, starts_at=past_slot.starts_at, ends_at=past_slot.ends_at,
        patient=world.patient, insurance_type="statutory", visit_reason=world.a.reason,
    )

    response = patient_web.get(reverse("bookings:appointments"))

    assert response.context["upcoming"] == [world.a.booking]
    assert response.context["past"] == [past]
    assert world.b.booking.code not in response.content.decode()


def test_it_hides_another_patients_appointment(world, patient_web):
    for name in ("bookings:appointment", "bookings:appointment-cancel", "bookings:appointment-ics"):
        assert patient_web.get(reverse(name, args=[world.b.booking.public_id])).status_code == 404
    assert patient_web.post(reverse("bookings:appointment-cancel", args=[world.b.booking.public_id])).status_code == 404
    assert Booking.objects.get(pk=world.b.booking.pk).is_active


def test_it_cancels_after_a_confirmation_step(world, patient_web):
    url = reverse("bookings:appointment-cancel", args=[world.a.booking.public_id])

    confirm = patient_web.get(url)
    assert confirm.status_code == 200 and not confirm.context["too_late"]
    assert Booking.objects.get(pk=world.a.booking.pk).is_active

    response = patient_web.post(url)

    assert response.status_code == 302
    booking = Booking.objects.get(pk=world.a.booking.pk)
    assert (booking.status, booking.cancelled_by) == (Booking.Status.CANCELLED, Booking.CancelledBy.PATIENT)


def test_it_explains_that_the_cancellation_deadline_has_passed(world, patient_web):
    world.a.practice.cancellation_deadline_hours = 24 * 7
    world.a.practice.save()
    url = reverse("bookings:appointment-cancel", args=[world.a.booking.public_id])

    page = patient_web.get(url, headers={"accept-language": "en"})
    response = patient_web.post(url, headers={"accept-language": "en"})

    assert page.context["too_late"]
    assert "Yes, cancel" not in page.content.decode()
    assert response.status_code == 400
    assert "deadline for this appointment has passed" in response.content.decode()
    assert world.a.practice.phone in response.content.decode()
    assert Booking.objects.get(pk=world.a.booking.pk).is_active


# --- Alerts ---------------------------------------------------------------------------------


def test_it_subscribes_lists_and_ends_an_alert(world, patient_web):
    SlotAlert.objects.filter(patient=world.patient).delete()
    url = reverse("bookings:alert-new") + f"?doctor={world.a.doctor.public_id}&insurance=private&reason={world.a.reason.public_id}"
    today = timezone.localdate()

    response = patient_web.post(url, {"date_from": today.isoformat(), "date_until": (today + timedelta(days=14)).isoformat()})

    assert response.status_code == 302
    alert = SlotAlert.objects.get(patient=world.patient)
    assert (alert.doctor, alert.practice, alert.visit_reason, alert.insurance_type) == (
        world.a.doctor, world.a.practice, world.a.reason, "private"
    )
    listing = patient_web.get(reverse("bookings:alerts"))
    assert list(listing.context["alerts"]) == [alert]
    patient_web.post(reverse("bookings:alert-end", args=[alert.public_id]))
    assert not SlotAlert.objects.get(pk=alert.pk).is_active
    assert list(patient_web.get(reverse("bookings:alerts")).context["alerts"]) == []


def test_it_refuses_an_alert_period_in_the_past_or_too_long(world, patient_web):
    url = reverse("bookings:alert-new") + f"?specialty={world.specialty.slug}"
    today = timezone.localdate()
    before = SlotAlert.objects.count()

    past = patient_web.post(url, {"date_from": (today - timedelta(days=1)).isoformat(), "date_until": today.isoformat()})
    long = patient_web.post(url, {"date_from": today.isoformat(), "date_until": (today + timedelta(days=200)).isoformat()})

    assert past.status_code == long.status_code == 200
    assert past.context["form"].errors and long.context["form"].errors
    assert SlotAlert.objects.count() == before


def test_it_ends_no_alert_of_another_patient(world, patient_web):
    response = patient_web.post(reverse("bookings:alert-end", args=[world.b.alert.public_id]))

    assert response.status_code == 404
    assert SlotAlert.objects.get(pk=world.b.alert.pk).is_active


# --- Account --------------------------------------------------------------------------------


def test_it_saves_the_account_details_and_switches_the_language(world, patient_web):
    response = patient_web.post(
        reverse("bookings:account"),
        {"full_name": "Paula P.", "phone": "+49 170 123", "date_of_birth": "1990-05-01", "language": "en"},
    )

    assert response.status_code == 302
    world.patient.refresh_from_db()
    assert (world.patient.full_name, world.patient.phone, str(world.patient.date_of_birth), world.patient.language) == (
        "Paula P.", "+49 170 123", "1990-05-01", "en"
    )
    assert response.cookies["django_language"].value == "en"
    assert patient_web.get(reverse("bookings:account"))["Content-Language"] == "en"


def test_it_rejects_a_birth_date_in_the_future(world, patient_web):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = patient_web.post(reverse("bookings:account"), {"full_name": "X", "language": "de", "date_of_birth": tomorrow})

    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors


def test_it_keeps_the_language_choice_of_a_signed_in_user(world, patient_web):
    response = patient_web.post(reverse("set_language"), {"language": "en", "next": reverse("bookings:search")})

    assert response.status_code == 302 and response["Location"] == reverse("bookings:search")
    world.patient.refresh_from_db()
    assert world.patient.language == "en"


# --- CSRF and login on every form ------------------------------------------------------------------


def post_targets(world, free) -> list[str]:
    return [
        book_url(free[0], world.a.reason),
        reverse("bookings:appointment-cancel", args=[world.a.booking.public_id]),
        reverse("bookings:alert-new") + f"?doctor={world.a.doctor.public_id}",
        reverse("bookings:alert-end", args=[world.a.alert.public_id]),
        reverse("bookings:account"),
        reverse("bookings:account-export"),
        reverse("bookings:account-delete"),
        reverse("set_language"),
        reverse("account_logout"),
    ]


def test_it_refuses_every_form_posted_without_a_csrf_token(world, free):
    client = HttpsClient(enforce_csrf_checks=True)
    client.force_login(world.patient)

    for url in post_targets(world, free):
        assert client.post(url, {"language": "en"}).status_code == 403, url
    assert Booking.objects.get(pk=world.a.booking.pk).is_active
    assert SlotAlert.objects.get(pk=world.a.alert.pk).is_active


def test_it_renders_a_csrf_token_in_every_post_form(world, free, patient_web):
    pages = [
        book_url(free[0], world.a.reason),
        reverse("bookings:appointment-cancel", args=[world.a.booking.public_id]),
        reverse("bookings:alert-new") + f"?doctor={world.a.doctor.public_id}",
        reverse("bookings:alerts"),
        reverse("bookings:account"),
        reverse("bookings:account-delete"),
        reverse("bookings:appointments"),
    ]
    for url in pages:
        html = patient_web.get(url).content.decode()
        forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, flags=re.S)
        assert forms, url
        assert all("csrfmiddlewaretoken" in form for form in forms), url


def test_it_sends_visitors_to_log_in_for_personal_pages(world, web):
    for name in ("bookings:appointments", "bookings:alerts", "bookings:account", "bookings:account-delete"):
        response = web.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login")), name


def test_it_says_at_once_when_an_opened_slot_is_already_taken(world, free, patient_web):
    booking_create(patient=world.patient2, slot=free[0], visit_reason=world.a.reason, insurance_type="statutory")

    response = patient_web.get(book_url(free[0], world.a.reason))

    assert response.status_code == 409
    assert response.context["taken"]
    assert free[1] in response.context["fresh_slots"]


def test_it_switches_to_the_accounts_language_at_login(world, web):
    world.patient.language = "en"
    world.patient.save()

    response = web.post(reverse("account_login"), {"login": world.patient.email, "password": "correct-horse-battery-staple-42"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert web.get(reverse("bookings:appointments"))["Content-Language"] == "en"
