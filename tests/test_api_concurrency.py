"""Many patients POST the same slot through the API at once, each thread on its own PostgreSQL
connection: one 201, every other answer a 409 in the API's error shape."""

from __future__ import annotations

import pytest

from bookings.models import Booking
from tests.api_client import api_client
from tests.conftest import make_slot
from tests.test_booking_concurrency import THREADS, make_patients, run_together


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
def test_it_answers_one_201_and_409_to_everyone_else_for_one_slot(world):
    slot = make_slot(world.a.doctor, days=6, hour=9)
    payload = {"slot": str(slot.public_id), "visit_reason": str(world.a.reason.public_id), "insurance_type": "statutory"}

    def post_as(patient):
        client = api_client(patient)
        return lambda: client.post("/api/bookings/", payload, format="json")

    outcomes = run_together([post_as(p) for p in make_patients(THREADS)])

    assert all(kind == "ok" for kind, _ in outcomes), [value for kind, value in outcomes if kind != "ok"]
    statuses = sorted(response.status_code for _, response in outcomes)
    assert statuses == [201] + [409] * (THREADS - 1)
    codes = {response.json()["error"]["code"] for _, response in outcomes if response.status_code == 409}
    assert codes == {"slot_taken"}
    winner = next(response.json() for _, response in outcomes if response.status_code == 201)
    active = Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED)
    assert [str(b.public_id) for b in active] == [winner["public_id"]]
