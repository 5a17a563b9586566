"""Redis (queue and cache) goes away while patients use the product: a booking through the API
or the web still goes through (rate limits cannot count, so they let the request pass; the
confirmation waits in the outbox), a patient can still log in, and the chat, which needs Redis
for its ticket, answers 503 in the API's error shape instead of a bare 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Booking
from terminfinder.outbox.models import OutboxMessage
from tests import plugin
from tests.api_client import api_client
from tests.conftest import PASSWORD, make_slot
from tests.test_patient_pages import book_url, booking_form


@pytest.fixture
def redis_down():
    redis = plugin.redis_server
    if redis is None:
        pytest.skip("needs the harness's own Redis (REDIS_URL was set from outside)")
    redis.stop()
    try:
        yield
    finally:
        redis.start()


def test_it_books_through_the_api_while_redis_is_down(world, redis_down, django_capture_on_commit_callbacks):
    slot = make_slot(world.a.doctor, days=4, hour=11)
    payload = {"slot": str(slot.public_id), "visit_reason": str(world.a.reason.public_id), "insurance_type": "statutory"}

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(world.patient).post("/api/bookings/", payload, format="json")

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(public_id=response.json()["public_id"])
    assert booking.slot == slot
    waiting = OutboxMessage.objects.filter(sent_at__isnull=True, actor_name="send_booking_confirmation")
    assert [str(booking.public_id)] in [row.args for row in waiting], "the confirmation waits for the relay"


@pytest.mark.parametrize(
    "language, expected", [("de", "kurz nicht erreichbar"), ("en", "briefly unavailable")]
)
def test_the_chat_answers_503_with_a_message_while_redis_is_down(world, redis_down, language, expected):
    client = api_client()

    asked = client.post(
        f"/api/chat/{world.a.practice.public_id}/", {"message": "Wo kann ich parken?"}, format="json",
        headers={"Accept-Language": language},
    )
    polled = client.get("/api/chat/tickets/" + "x" * 32 + "/", headers={"Accept-Language": language})

    for response in (asked, polled):
        assert response.status_code == 503, response.content
        assert response["Retry-After"] == "60"
        error = response.json()["error"]
        assert error["code"] == "unavailable"
        assert expected in error["message"]


def test_a_patient_books_on_the_web_and_logs_in_while_redis_is_down(world, redis_down, web, patient_web):
    slot = make_slot(world.a.doctor, days=4, hour=9, minutes=30)
    data = booking_form(patient_web, slot, world.a.reason)
    response = patient_web.post(book_url(slot, world.a.reason), data)
    assert response.status_code == 302, response.content[:500]
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).exists()

    login = web.post(reverse("account_login"), {"login": world.patient.email, "password": PASSWORD})
    assert login.status_code == 302, login.content[:500]
