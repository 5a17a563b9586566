"""The API's behaviour: booking through it (201, 409, 400, idempotency), JWT, throttling, the
free-slot filters, alerts, practice cancellation, the schema, and lists whose query count does
not grow with their rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from bookings.models import Booking, Slot, SlotAlert
from practices.models import Doctor, Practice, VisitReason
from tests.api_client import api_client
from tests.conftest import PASSWORD, make_slot


@pytest.fixture
def free_slot(world) -> Slot:
    return make_slot(world.a.doctor, days=4, hour=11)


def book(client, slot, reason, **extra):
    headers = extra.pop("headers", {})
    payload = {"slot": str(slot.public_id), "visit_reason": str(reason.public_id), "insurance_type": "statutory", **extra}
    return client.post("/api/bookings/", payload, format="json", headers=headers)


def test_it_books_a_free_slot_and_answers_201_with_the_booking(world, free_slot):
    response = book(api_client(world.patient), free_slot, world.a.reason, note="Rückenschmerzen")

    assert response.status_code == 201, response.content
    body = response.json()
    booking = Booking.objects.get(public_id=body["public_id"])
    assert booking.patient == world.patient and booking.slot == free_slot
    assert body["practice"]["public_id"] == str(world.a.practice.public_id)
    assert body["status"] == "confirmed" and body["note"] == "Rückenschmerzen"
    assert "id" not in body and "pk" not in body


def test_it_returns_the_same_booking_for_a_replayed_idempotency_key(world, free_slot):
    client = api_client(world.patient)
    first = book(client, free_slot, world.a.reason, headers={"Idempotency-Key": "k-1"})
    again = book(client, free_slot, world.a.reason, headers={"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 201
    assert first.json()["public_id"] == again.json()["public_id"]
    assert Booking.objects.filter(slot=free_slot).count() == 1


def test_it_answers_409_when_the_slot_is_taken(world, free_slot):
    assert book(api_client(world.patient), free_slot, world.a.reason).status_code == 201

    response = book(api_client(world.patient2), free_slot, world.a.reason)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_taken"
    assert response.json()["error"]["message"]


def test_it_answers_400_with_field_errors(world, free_slot):
    response = api_client(world.patient).post(
        "/api/bookings/", {"slot": "not-a-uuid", "visit_reason": str(world.a.slot.public_id)}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"slot", "visit_reason", "insurance_type"}


def test_it_answers_400_for_a_visit_reason_of_another_practice(world, free_slot):
    response = book(api_client(world.patient), free_slot, world.b.reason)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_booking"


def test_it_asks_anonymous_callers_to_authenticate(world, free_slot):
    response = book(api_client(), free_slot, world.a.reason)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert not Booking.objects.filter(slot=free_slot).exists()


def test_it_lets_a_patient_cancel_their_booking(world):
    response = api_client(world.patient).post(f"/api/bookings/{world.a.booking.public_id}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    world.a.booking.refresh_from_db()
    assert world.a.booking.cancelled_by == Booking.CancelledBy.PATIENT


def test_it_lets_practice_staff_cancel_with_a_reason_but_not_a_doctor_member(world):
    url = f"/api/practice/bookings/{world.a.booking.public_id}/cancel/"
    refused = api_client(world.doctor_a).post(url, {"reason": "Praxis geschlossen"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_allowed"

    response = api_client(world.staff_a).post(url, {"reason": "Praxis geschlossen"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["cancellation_reason"] == "Praxis geschlossen"
    assert body["cancelled_by"] == "practice"


def test_it_authenticates_with_a_jwt_bearer_token(world):
    client = api_client()
    tokens = client.post("/api/auth/token/", {"email": world.patient.email, "password": PASSWORD}, format="json")
    assert tokens.status_code == 200, tokens.content

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    me = client.get("/api/me/")
    assert me.status_code == 200 and me.json()["email"] == world.patient.email

    refreshed = api_client().post("/api/auth/token/refresh/", {"refresh": tokens.json()["refresh"]}, format="json")
    assert refreshed.status_code == 200 and refreshed.json()["access"]
    verified = api_client().post("/api/auth/token/verify/", {"token": tokens.json()["access"]}, format="json")
    assert verified.status_code == 200


def test_it_throttles_the_token_endpoint_and_booking_create(world, free_slot, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/minute", "booking_create": "1/minute"})
    client = api_client()
    wrong = {"email": world.patient.email, "password": "wrong"}
    statuses = [client.post("/api/auth/token/", wrong, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert client.post("/api/auth/token/", wrong, format="json").json()["error"]["code"] == "throttled"

    patient = api_client(world.patient)
    assert book(patient, free_slot, world.a.reason).status_code == 201
    assert book(patient, free_slot, world.a.reason).status_code == 429
    assert patient.get("/api/bookings/").status_code == 200  # reading is not throttled


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(world, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/minute"})
    client = api_client()
    wrong = {"email": world.patient.email, "password": "wrong"}

    statuses = [
        client.post("/api/auth/token/", wrong, format="json", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
        for i in range(3)
    ]

    assert statuses == [401, 401, 429]


def slot_ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["public_id"] for row in response.json()["results"]}


def test_it_filters_free_slots_by_place_practice_reason_and_dates(world, free_slot):
    client = api_client()
    day = timezone.localtime(free_slot.starts_at).date()
    taken = str(world.a.slot.public_id)

    everything = slot_ids(client.get("/api/slots/"))
    assert str(free_slot.public_id) in everything and taken not in everything
    assert slot_ids(client.get("/api/slots/", {"city": "München"})) == set()
    assert slot_ids(client.get("/api/slots/", {"postal_code": "101"})) == {str(free_slot.public_id)}
    assert slot_ids(client.get("/api/slots/", {"practice": str(world.a.practice.public_id)})) == {str(free_slot.public_id)}
    assert slot_ids(client.get("/api/slots/", {"visit_reason": str(world.a.reason.public_id), "insurance": "private"})) == {
        str(free_slot.public_id)
    }
    assert slot_ids(client.get("/api/slots/", {"date_from": day + timedelta(days=1)})) == set()
    assert slot_ids(client.get("/api/slots/", {"date_from": day, "date_until": day})) == {str(free_slot.public_id)}
    assert slot_ids(client.get("/api/slots/", {"doctor": str(world.b.doctor.public_id)})) == set()
    unknown = client.get("/api/slots/", {"practice": "00000000-0000-0000-0000-000000000000"})
    assert slot_ids(unknown) == set()
    bad = client.get("/api/slots/", {"date_from": "morgen"})
    assert bad.status_code == 400 and "date_from" in bad.json()["error"]["fields"]


def test_it_searches_practices_and_hides_inactive_ones(world):
    client = api_client()
    found = client.get("/api/practices/", {"q": "alpha"}).json()["results"]
    assert [p["public_id"] for p in found] == [str(world.a.practice.public_id)]
    assert client.get("/api/practices/", {"specialty": "allgemeinmedizin"}).json()["count"] == 2

    Practice.objects.filter(pk=world.b.practice.pk).update(is_active=False)
    assert client.get(f"/api/practices/{world.b.practice.public_id}/").status_code == 404


def test_it_creates_lists_and_ends_a_slot_alert(world):
    client = api_client(world.patient)
    today = timezone.localdate()
    response = client.post(
        "/api/slot-alerts/",
        {"doctor": str(world.a.doctor.public_id), "insurance_type": "statutory", "date_from": today, "date_until": today + timedelta(days=7)},
        format="json",
    )
    assert response.status_code == 201, response.content
    alert_id = response.json()["public_id"]
    assert response.json()["practice"] == str(world.a.practice.public_id)
    assert alert_id in {row["public_id"] for row in client.get("/api/slot-alerts/").json()["results"]}

    ended = client.post(f"/api/slot-alerts/{alert_id}/end/")

    assert ended.status_code == 200 and ended.json()["is_active"] is False
    assert not SlotAlert.objects.get(public_id=alert_id).is_active
    too_long = client.post(
        "/api/slot-alerts/",
        {"specialty": "allgemeinmedizin", "insurance_type": "statutory", "date_from": today, "date_until": today + timedelta(days=200)},
        format="json",
    )
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "invalid_booking"


def test_it_describes_the_api_and_its_errors_in_openapi_3(world):
    response = api_client().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    create = schema["paths"]["/api/bookings/"]["post"]
    assert create["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Error" in schema["components"]["schemas"]
    docs = api_client().get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content and b"/static/drf_spectacular_sidecar/" in docs.content


# --- Query counts ------------------------------------------------------------------------


def grow(world, rows: int) -> None:
    """Add rows of every listed kind until practice A's doctor has `rows` slots and bookings of
    the patient, and there are `rows` practices, doctors, visit reasons and alerts."""
    doctor, reason, patient = world.a.doctor, world.a.reason, world.patient
    base = timezone.now().replace(microsecond=0, second=0) + timedelta(days=30)
    have = Slot.objects.filter(doctor=doctor).count()
    slots = Slot.objects.bulk_create(
        Slot(doctor=doctor, starts_at=base + timedelta(minutes=15 * i), ends_at=base + timedelta(minutes=15 * i + 15))
        for i in range(have, rows)
    )
    Booking.objects.bulk_create(
        Booking(slot=s, doctor=doctor, starts_at=s.starts_at, ends_at=s.ends_at, patient=patient,
                insurance_type="statutory", visit_reason=reason)
        for s in slots[: rows - Booking.objects.filter(patient=patient).count()]
    )
    # Free slots: practice B's doctor, whose first slot is booked.
    Slot.objects.bulk_create(
        Slot(doctor=world.b.doctor, starts_at=base + timedelta(minutes=15 * i), ends_at=base + timedelta(minutes=15 * i + 15))
        for i in range(Slot.objects.filter(doctor=world.b.doctor).count(), rows + 1)
    )
    n = Practice.objects.count()
    practices = Practice.objects.bulk_create(
        Practice(name=f"Praxis {i}", slug=f"praxis-{i}", street="Weg 1", postal_code="20095", city="Hamburg")
        for i in range(n, rows)
    )
    Doctor.objects.bulk_create(
        Doctor(practice=p, specialty=world.specialty, name=f"Doktor {p.slug}", verification_status="verified")
        for p in practices
    )
    VisitReason.objects.bulk_create(
        VisitReason(practice=world.a.practice, name=f"Grund {i}") for i in range(VisitReason.objects.count(), rows)
    )
    today = timezone.localdate()
    SlotAlert.objects.bulk_create(
        SlotAlert(patient=patient, practice=world.a.practice, date_from=today, date_until=today, insurance_type="statutory")
        for _ in range(SlotAlert.objects.filter(patient=patient).count(), rows)
    )


LISTS = [
    ("patient", "/api/practices/"),
    ("patient", "/api/doctors/"),
    ("patient", "/api/visit-reasons/"),
    ("patient", "/api/slots/"),
    ("patient", "/api/bookings/"),
    ("patient", "/api/slot-alerts/"),
    ("staff_a", "/api/practice/bookings/"),
    ("staff_a", "/api/practice/slots/"),
    ("admin", "/api/practice/bookings/"),
]


def count_queries(world) -> dict[str, int]:
    counts = {}
    for persona, url in LISTS:
        user = getattr(world, persona)
        # A fresh object each time: tenancy caches the memberships on the user per request.
        client = api_client(type(user).objects.get(pk=user.pk))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert response.json()["count"] >= 10, url
        counts[f"{persona} {url}"] = len(queries)
    return counts


def test_it_lists_with_the_same_number_of_queries_for_10_and_1000_rows(world):
    grow(world, 10)
    few = count_queries(world)
    grow(world, 1000)
    many = count_queries(world)

    assert few == many


def test_it_answers_an_unknown_or_malformed_id_with_a_json_404(world):
    client = api_client(world.patient)
    for url in ("/api/bookings/not-a-uuid/", f"/api/bookings/{world.b.booking.public_id}/", "/api/practices/123/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"


def test_it_accepts_the_session_but_demands_the_csrf_token_for_writes(world, free_slot):
    client = api_client()
    client.handler.enforce_csrf_checks = True
    client.force_login(world.patient)

    assert client.get("/api/me/").json()["email"] == world.patient.email
    refused = book(client, free_slot, world.a.reason)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert not Booking.objects.filter(slot=free_slot).exists()


def test_it_answers_an_unknown_api_path_with_the_json_error_shape(client):
    for path in ("/api/nope/", "/api/bookings/extra/segments/", "/api/"):
        response = client.get(path, secure=True)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json", path
        assert response.json()["error"]["code"] == "not_found", path
