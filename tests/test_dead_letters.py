"""A message out of retries lands among the dead letters: the queues page and `manage.py queues`
show it to platform admins, and requeue delivers it (discard drops it)."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from notifications import monitoring
from notifications.models import Delivery
from tests import plugin
from tests.flow import book, event_uid, make_slots, to, wait_until
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUSAL = "451 4.3.0 Try again later"  # temporary: retried, then dead-lettered (a 5xx is not)


@pytest.fixture
def workers(quiet_world):
    # One retry only, so the message is dead within a second instead of after eight backoffs.
    group = WorkerGroup("high", env={"TERMINFINDER_EMAIL_MAX_RETRIES": "1"}).start()
    yield group
    group.stop()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Production settings use the manifest storage, which needs `collectstatic`; the admin
    # pages only need their static URLs here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _dead_letter_for(booking, workers):
    def find():
        return [letter for letter in monitoring.dead_letters() if letter.args == [str(booking.public_id)]]

    assert wait_until(lambda: find(), timeout=20), workers.output()[-3000:]
    (letter,) = find()
    return letter


def _queues_output() -> str:
    out = StringIO()
    call_command("queues", stdout=out)
    return out.getvalue()


def _dead_count(output: str, queue: str) -> int:
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == queue:
            return int(fields[3])
    raise AssertionError(f"no row for {queue} in:\n{output}")


def _confirmation_dead_lettered(world, workers):
    """A booking whose confirmation ran out of retries against a refusing SMTP server."""
    (slot,) = make_slots(world.a.doctor, 1)
    plugin.smtp_server.refuse_with = REFUSAL
    booking = book(world.a, world.patient, slot)
    return booking, _dead_letter_for(booking, workers)


def test_it_shows_a_dead_letter_to_platform_admins_and_requeue_delivers_it(quiet_world, workers):
    world = quiet_world
    smtp = plugin.smtp_server
    url = reverse("admin-queues")
    booking, letter = _confirmation_dead_lettered(world, workers)
    assert letter.queue == "high"
    assert letter.actor == "send_booking_confirmation"
    assert smtp.refused == 2  # the first try and its one retry

    admin = _client(world.admin)
    page = admin.get(url, secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert letter.message_id in html
    assert str(booking.public_id) in html
    output = _queues_output()
    assert letter.message_id in output
    assert str(booking.public_id) in output
    assert _dead_count(output, "high") == 1

    # Staff of a practice get a 403, patients and anonymous visitors the admin login.
    requeue = {"action": "requeue", "queue": "high", "message_id": letter.message_id}
    assert _client(world.staff_a).get(url, secure=True).status_code == 403
    assert _client(world.staff_a).post(url, requeue, secure=True).status_code == 403
    for outsider in (_client(world.patient), _client()):
        response = outsider.get(url, secure=True)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]
        assert outsider.post(url, requeue, secure=True).status_code == 302
    assert [d.message_id for d in monitoring.dead_letters()] == [letter.message_id]
    assert smtp.received(to(world.patient.email)) == []

    smtp.refuse_with = None
    response = admin.post(url, requeue, secure=True)
    assert response.status_code == 302

    mails = smtp.wait_for(1, timeout=20, predicate=to(world.patient.email))
    assert len(mails) == 1, workers.output()[-3000:]
    assert event_uid(mails[0]) == f"booking-{booking.public_id}@terminfinder"
    assert monitoring.dead_letters() == []
    assert _dead_count(_queues_output(), "high") == 0
    delivery = Delivery.objects.get(kind=Delivery.Kind.BOOKING_CONFIRMATION, object_ref=str(booking.public_id))
    assert delivery.status == Delivery.Status.SENT


def test_it_discards_a_dead_letter(quiet_world, workers):
    world = quiet_world
    smtp = plugin.smtp_server
    url = reverse("admin-queues")
    booking, letter = _confirmation_dead_lettered(world, workers)
    smtp.refuse_with = None

    response = _client(world.admin).post(
        url, {"action": "discard", "queue": "high", "message_id": letter.message_id}, secure=True
    )

    assert response.status_code == 302
    assert monitoring.dead_letters() == []
    assert "dead letters:" not in _queues_output()
    time.sleep(2)
    assert smtp.received(to(world.patient.email)) == []
    assert smtp.refused == 2
    # Discarding twice is reported, not an error.
    again = _client(world.admin).post(
        url, {"action": "discard", "queue": "high", "message_id": letter.message_id}, secure=True, follow=True
    )
    assert again.status_code == 200
