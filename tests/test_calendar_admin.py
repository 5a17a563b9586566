"""Staff manage their doctors' calendar connections: the secret is write-only and encrypted,
"test connection" makes one bounded call, "sync now" dispatches the actors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calendars import crypto
from calendars.services import connection_test
from calendars.models import CalendarConnection
from terminfinder.outbox.models import OutboxMessage
from tests.calendar_support import make_connection, radicale, upstream  # noqa: F401 - fixtures
from tests.conftest import HttpsClient

SECRET = "app-specific-password-1234"


def staff_client(world) -> HttpsClient:
    client = HttpsClient()
    client.force_login(world.staff_a)
    return client


def form(world, url: str, secret: str = "") -> dict:
    return {
        "doctor": world.a.doctor.pk,
        "provider": "icloud",
        "url": url,
        "username": "doctor",
        "secret": secret,
        "direction": "both",
        "is_active": "on",
        "pushed_events-TOTAL_FORMS": 0,
        "pushed_events-INITIAL_FORMS": 0,
    }


def test_it_stores_the_secret_encrypted_and_never_shows_it_again(world):
    client = staff_client(world)

    response = client.post(
        reverse("admin:calendars_calendarconnection_add"), form(world, "https://caldav.icloud.com/1/calendars/x/", SECRET)
    )

    assert response.status_code == 302
    connection = CalendarConnection.objects.get(doctor=world.a.doctor)
    assert SECRET not in connection.secret_encrypted
    assert crypto.decrypt(connection.secret_encrypted) == SECRET
    page = client.get(reverse("admin:calendars_calendarconnection_change", args=[connection.pk])).content.decode()
    assert SECRET not in page and connection.secret_encrypted not in page
    # Saving the form again without a secret keeps the stored one.
    client.post(
        reverse("admin:calendars_calendarconnection_change", args=[connection.pk]),
        form(world, "https://caldav.icloud.com/1/calendars/y/"),
    )
    connection.refresh_from_db()
    assert crypto.decrypt(connection.secret_encrypted) == SECRET


def test_it_rejects_credentials_in_the_url(world):
    response = staff_client(world).post(
        reverse("admin:calendars_calendarconnection_add"), form(world, "https://doctor:pw@cal.example.org/dav/")
    )

    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    assert not CalendarConnection.objects.filter(doctor=world.a.doctor).exists()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://cal.example.org/dav/", "https://"),
        ("https://127.0.0.1:6379/", "privates Netz"),
        ("https://10.0.0.5/remote.php/dav/", "privates Netz"),
        ("https://169.254.169.254/latest/meta-data/", "privates Netz"),
    ],
)
def test_it_refuses_plain_http_and_addresses_inside_our_network(world, settings, url, reason):
    settings.TERMINFINDER_CALENDAR_ALLOW_LOCAL = False

    response = staff_client(world).post(reverse("admin:calendars_calendarconnection_add"), form(world, url, SECRET))

    assert response.status_code == 200
    assert reason in " ".join(response.context["adminform"].form.errors["url"])
    assert not CalendarConnection.objects.filter(doctor=world.a.doctor).exists()


def test_it_accepts_a_public_https_address(world, settings):
    settings.TERMINFINDER_CALENDAR_ALLOW_LOCAL = False
    url = "https://93.184.216.34/dav/calendars/doctor/"

    response = staff_client(world).post(reverse("admin:calendars_calendarconnection_add"), form(world, url, SECRET))

    assert response.status_code == 302
    assert CalendarConnection.objects.get(doctor=world.a.doctor).url == url


def test_the_worker_refuses_a_stored_address_inside_our_network(world, settings):
    connection = make_connection(world.a.doctor, "http://127.0.0.1:6379/", provider="ics", direction="pull")
    settings.TERMINFINDER_CALENDAR_ALLOW_LOCAL = False

    error = connection_test(connection=connection)

    assert "https://" in error
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR


def test_it_tests_a_connection_from_the_admin(world, upstream):
    good = make_connection(world.a.doctor, upstream.url)
    bad = make_connection(world.a.doctor, upstream.url, secret="wrong")
    client = staff_client(world)

    response = client.post(
        reverse("admin:calendars_calendarconnection_changelist"),
        {"action": "test_connections", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any("works" in m or "funktioniert" in m for m in messages), messages
    good.refresh_from_db(), bad.refresh_from_db()
    assert (good.status, bad.status) == ("ok", "error")
    assert "wrong" not in " ".join(messages)


def test_it_dispatches_push_and_pull_on_sync_now(world):
    connection = make_connection(world.a.doctor, "https://cal.example.org/dav/x/", secret="x")

    staff_client(world).post(
        reverse("admin:calendars_calendarconnection_changelist"),
        {"action": "sync_now", "_selected_action": [connection.pk]},
    )

    rows = OutboxMessage.objects.filter(actor_name__in=["push_connection", "pull_connection"])
    assert {(row.actor_name, row.queue_name, tuple(row.args)) for row in rows} == {
        ("push_connection", "default", (connection.pk,)),
        ("pull_connection", "low", (connection.pk,)),
    }


def test_it_cannot_read_a_secret_after_its_key_is_dropped(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TERMINFINDER_CALENDAR_KEYS = [old]
    token = crypto.encrypt(SECRET)
    settings.TERMINFINDER_CALENDAR_KEYS = [new, old]  # rotation: the new key first
    assert crypto.decrypt(token) == SECRET
    settings.TERMINFINDER_CALENDAR_KEYS = [new]
    try:
        crypto.decrypt(token)
    except crypto.SecretUnreadable:
        pass
    else:
        raise AssertionError("decrypted without its key")


def test_it_lists_events_changed_in_the_calendar_on_the_connection(world):
    from calendars.models import PushedEvent

    connection = make_connection(world.a.doctor, "https://cal.example.org/dav/x/", secret="x")
    PushedEvent.objects.create(
        connection=connection, booking=world.a.booking, href="/x/e.ics", etag='"1"', state=PushedEvent.State.CONFLICT
    )

    page = staff_client(world).get(reverse("admin:calendars_calendarconnection_change", args=[connection.pk]))

    assert page.status_code == 200
    assert world.a.booking.code in page.content.decode()
    assert world.patient.full_name not in page.content.decode()
