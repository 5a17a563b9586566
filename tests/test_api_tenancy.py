"""API tenancy: every endpoint under /api/, called as every persona.

Nobody reads or writes another patient's or another practice's objects: they answer 404, as an
id that never existed; lists carry no foreign ids. MATRIX below names every URL pattern of the
API; a new endpoint without a row fails the first test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from chatbot import tickets
from tests.api_client import api_client

PERSONAS = ["admin", "owner_a", "staff_a", "staff_b", "patient", "patient2", None]
PRACTICE_A = {"admin", "owner_a", "staff_a"}
ANYONE = {p: 200 for p in PERSONAS}


def signed_in(status: int, **overrides) -> dict:
    return {**{p: status for p in PERSONAS if p}, None: 401, **overrides}


@dataclass(frozen=True)
class Call:
    method: str
    url: Callable[[object], str]
    expected: dict  # persona -> status
    # For lists: persona -> the public ids it may see (None: public data, not checked)
    visible: Callable[[object, str], set] | None = None
    data: dict | None = None


def own_bookings(w, persona):
    return {str(b.public_id) for b in (w.a.booking, w.b.booking) if b.patient == getattr(w, persona)}


def own_alerts(w, persona):
    return {str(a.public_id) for a in (w.a.alert, w.b.alert) if a.patient == getattr(w, persona)}


def practice_objects(name):
    def visible(w, persona):
        sides = {"admin": ("a", "b"), "owner_a": ("a",), "staff_a": ("a",), "staff_b": ("b",)}
        return {
            str(o.public_id)
            for side in sides.get(persona, ())
            for o in getattr(getattr(w, side), f"all_{name}")
        }

    return visible


# Order matters within one persona: the writes come last.
MATRIX: dict[str, Call] = {
    "api:schema": Call("get", lambda w: "/api/schema/", ANYONE),
    "api:docs": Call("get", lambda w: "/api/docs/", ANYONE),
    "api:practice-list": Call("get", lambda w: "/api/practices/", ANYONE),
    "api:practice-detail": Call("get", lambda w: f"/api/practices/{w.a.practice.public_id}/", ANYONE),
    "api:doctor-list": Call("get", lambda w: "/api/doctors/", ANYONE),
    "api:doctor-detail": Call("get", lambda w: f"/api/doctors/{w.a.doctor.public_id}/", ANYONE),
    "api:visit-reason-list": Call("get", lambda w: "/api/visit-reasons/", ANYONE),
    "api:visit-reason-detail": Call("get", lambda w: f"/api/visit-reasons/{w.a.reason.public_id}/", ANYONE),
    "api:slot-list": Call("get", lambda w: "/api/slots/", ANYONE),
    "api:me": Call("get", lambda w: "/api/me/", signed_in(200)),
    "api:booking-list": Call("get", lambda w: "/api/bookings/", signed_in(200), visible=own_bookings),
    "api:booking-detail": Call(
        "get", lambda w: f"/api/bookings/{w.a.booking.public_id}/", signed_in(404, patient=200)
    ),
    "api:slot-alert-list": Call("get", lambda w: "/api/slot-alerts/", signed_in(200), visible=own_alerts),
    "api:slot-alert-detail": Call(
        "get", lambda w: f"/api/slot-alerts/{w.a.alert.public_id}/", signed_in(404, patient=200)
    ),
    "api:practice-booking-list": Call(
        "get", lambda w: "/api/practice/bookings/", signed_in(200), visible=practice_objects("bookings")
    ),
    "api:practice-booking-detail": Call(
        "get",
        lambda w: f"/api/practice/bookings/{w.a.booking.public_id}/",
        signed_in(404, **{p: 200 for p in PRACTICE_A}),
    ),
    "api:practice-slot-list": Call(
        "get", lambda w: "/api/practice/slots/", signed_in(200), visible=practice_objects("slots")
    ),
    "api:practice-slot-detail": Call(
        "get",
        lambda w: f"/api/practice/slots/{w.a.slot.public_id}/",
        signed_in(404, **{p: 200 for p in PRACTICE_A}),
    ),
    # The chat is anonymous by design (it reads no authentication): everyone may ask and poll.
    "api:chat-ticket": Call(
        "get",
        lambda w: "/api/chat/tickets/"
        + tickets.ticket_open(bot="help", text="Wie buche ich?", language="de")
        + "/",
        ANYONE,
    ),
    "api:chat-practice": Call(
        "post", lambda w: f"/api/chat/{w.a.practice.public_id}/", {p: 202 for p in PERSONAS},
        data={"message": "Wo finde ich die Praxis?"},
    ),
    "api:chat-help": Call("post", lambda w: "/api/chat/help/", {p: 202 for p in PERSONAS}, data={"message": "Wie buche ich?"}),
    "api:token-obtain": Call(
        "post", lambda w: "/api/auth/token/", {p: 401 for p in PERSONAS},
        data={"email": "patient@example.org", "password": "wrong"},
    ),
    "api:token-refresh": Call("post", lambda w: "/api/auth/token/refresh/", {p: 401 for p in PERSONAS}, data={"refresh": "x"}),
    "api:token-verify": Call("post", lambda w: "/api/auth/token/verify/", {p: 401 for p in PERSONAS}, data={"token": "x"}),
    # Writes on practice A's / the patient's objects.
    "api:slot-alert-end": Call(
        "post", lambda w: f"/api/slot-alerts/{w.a.alert.public_id}/end/", signed_in(404, patient=200)
    ),
    "api:booking-cancel": Call(
        "post", lambda w: f"/api/bookings/{w.a.booking.public_id}/cancel/", signed_in(404, patient=200)
    ),
    "api:practice-booking-cancel": Call(
        "post",
        lambda w: f"/api/practice/bookings/{w.b.booking.public_id}/cancel/",
        signed_in(404, admin=200, staff_b=200),
        data={"reason": "Praxis geschlossen"},
    ),
}
# Creating is a write on one's own account only; its rules are tested in test_api.py.
CREATE_ONLY = {"api:booking-list", "api:slot-alert-list"}


def api_url_names() -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "api":
            for inner in pattern.url_patterns:
                assert isinstance(inner, URLPattern)
                names.add(f"api:{inner.name}")
    return names


def test_it_covers_every_api_endpoint_in_the_matrix():
    names = api_url_names()
    assert names, "no API URL patterns found"
    assert names == set(MATRIX), f"uncovered: {names - set(MATRIX)}; stale: {set(MATRIX) - names}"


@pytest.fixture
def world(world):
    for tenant in (world.a, world.b):
        tenant.all_bookings = list(tenant.practice.doctors.get().bookings.all())
        tenant.all_slots = list(tenant.doctor.slots.all())
    return world


def result_ids(response) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["public_id"] for row in rows}


@pytest.mark.parametrize("persona", PERSONAS, ids=[p or "anonymous" for p in PERSONAS])
def test_it_answers_every_endpoint_as_the_matrix_says(world, persona):
    client = api_client(getattr(world, persona) if persona else None)
    failures = []
    for name, call in MATRIX.items():
        url = call.url(world)
        response = getattr(client, call.method)(url, call.data or {}, format="json")
        expected = call.expected[persona]
        if response.status_code != expected:
            failures.append(f"{call.method.upper()} {url} ({name}): {response.status_code} != {expected}")
            continue
        if expected >= 400 and name not in {"api:docs"}:
            assert set(response.json()) == {"error"}, f"{name}: not the error shape"
        if call.visible and expected == 200:
            seen = result_ids(response)
            allowed = call.visible(world, persona) if persona else set()
            if not seen <= allowed:
                failures.append(f"{name}: foreign ids {seen - allowed}")
            if seen != allowed:
                failures.append(f"{name}: missing own ids {allowed - seen}")
    assert not failures, "\n".join(failures)
