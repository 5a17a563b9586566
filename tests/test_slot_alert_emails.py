"""A freed slot alerts the oldest N matching subscribers, nobody else; the alert email's link ends
the alert without a login."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from bookings.models import Booking, SlotAlert
from bookings.services import booking_cancel
from tests import plugin
from tests.flow import body, make_patients
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UNSUBSCRIBE_LINK = re.compile(r"https?://\S+?/alerts/unsubscribe/[^/\s]+/")


def _alert_subject(practice) -> str:
    with translation.override("de"):
        return gettext("A free appointment at %(practice)s") % {"practice": practice.name}


def _alert(patient, *, minutes_ago: int, **fields) -> SlotAlert:
    today = timezone.localdate()
    fields.setdefault("date_from", today)
    fields.setdefault("date_until", today + timedelta(days=14))
    fields.setdefault("insurance_type", "statutory")
    alert = SlotAlert.objects.create(patient=patient, **fields)
    # created_at is auto_now_add: set the age explicitly so "oldest first" is unambiguous.
    SlotAlert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return alert


def _cancel_and_collect(world, batch: int, expected: int) -> list:
    smtp = plugin.smtp_server
    subject = _alert_subject(world.a.practice)
    workers = WorkerGroup("low", env={"TERMINFINDER_SLOT_ALERT_BATCH": str(batch)}).start()
    try:
        booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)
        mails = smtp.wait_for(expected, timeout=30, predicate=lambda m: m["Subject"].strip() == subject)
        # Give a wrongly chosen extra recipient time to show up.
        time.sleep(3)
        mails = smtp.received(lambda m: m["Subject"].strip() == subject)
    finally:
        workers.stop()
    assert len(mails) >= expected, workers.output()
    return mails


def test_it_alerts_the_oldest_matching_subscribers_and_nobody_else(quiet_world):
    world = quiet_world
    a, b = world.a, world.b
    a.practice.accepts_private = False
    a.practice.save(update_fields=["accepts_private"])
    slot_day = timezone.localtime(a.slot.starts_at).date()
    # The world's own alerts: A's is ended, B's is for the other practice.
    SlotAlert.objects.filter(pk=a.alert.pk).update(is_active=False)

    outsiders = make_patients(4, prefix="outsider")
    # Older than every matching alert: a filter that let them through would pick them first.
    _alert(outsiders[0], minutes_ago=500, practice=a.practice, insurance_type="private")  # not accepted
    _alert(outsiders[1], minutes_ago=490, doctor=a.doctor, date_from=slot_day + timedelta(days=1),
           date_until=slot_day + timedelta(days=10))  # other dates
    _alert(outsiders[2], minutes_ago=480, practice=b.practice)  # other practice
    _alert(outsiders[3], minutes_ago=470, doctor=b.doctor)  # other practice's doctor
    subscribers = make_patients(7, prefix="subscriber")
    targets = [{"doctor": a.doctor}, {"practice": a.practice}, {"specialty": world.specialty}]
    for i, patient in enumerate(subscribers):
        _alert(patient, minutes_ago=300 - 10 * i, **targets[i % 3])  # subscribers[0] is the oldest

    mails = _cancel_and_collect(world, batch=3, expected=3)

    recipients = sorted(m["To"] for m in mails)
    assert recipients == sorted(p.email for p in subscribers[:3])
    notified = SlotAlert.objects.filter(notified_at__isnull=False)
    assert sorted(notified.values_list("patient__email", flat=True)) == recipients
    for mail in mails:
        assert UNSUBSCRIBE_LINK.search(body(mail, "plain"))
        assert "/alerts/unsubscribe/" in body(mail, "html")
        # "Book now" opens the doctor's week view at the freed slot, as the alert asked.
        assert f"/aerzte/{a.doctor.public_id}/termine/?insurance=statutory&week=" in body(mail, "plain")


def test_it_ends_the_alert_through_the_emailed_link_without_a_login(quiet_world):
    world = quiet_world
    SlotAlert.objects.filter(pk=world.a.alert.pk).update(is_active=False)
    (subscriber,) = make_patients(1, prefix="subscriber")
    alert = _alert(subscriber, minutes_ago=60, practice=world.a.practice)

    (mail,) = _cancel_and_collect(world, batch=1, expected=1)

    assert mail["To"] == subscriber.email
    link = UNSUBSCRIBE_LINK.search(body(mail, "plain")).group(0)
    # RFC 8058 one-click: the header names the same link the body does.
    assert str(mail["List-Unsubscribe"]).strip() == f"<{link}>"  # strip: the long header is folded
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlparse(link).path
    client = Client()  # anonymous

    page = client.get(path, secure=True)
    assert page.status_code == 200
    with translation.override("de"):
        assert gettext("End alert") in page.content.decode()
    alert.refresh_from_db()
    assert alert.is_active  # a mail scanner following the link ends nothing

    done = client.post(path, secure=True)
    assert done.status_code == 200
    alert.refresh_from_db()
    assert not alert.is_active
    assert client.get(path.replace("/unsubscribe/", "/unsubscribe/x"), secure=True).status_code == 404
