"""A slot alert's email lists only slots on the days the patient asked for, however wide the range
of slots that set it off."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import dateformat, timezone, translation
from dramatiq.middleware import CurrentMessage

from bookings.models import SlotAlert
from notifications import tasks
from tests.conftest import make_slot
from tests.flow import make_patients

pytestmark = pytest.mark.django_db


def test_it_lists_only_slots_on_the_alerts_days_when_new_slots_span_weeks(world, monkeypatch, mailoutbox):
    doctor = world.a.doctor
    SlotAlert.objects.update(is_active=False)  # the world's own alerts stay out of this
    before, wanted, wanted_later, after = (
        make_slot(doctor, days=5),
        make_slot(doctor, days=9, hour=10),
        make_slot(doctor, days=9, hour=11),
        make_slot(doctor, days=16),
    )
    day = timezone.localtime(wanted.starts_at).date()
    (patient,) = make_patients(1, prefix="one-day")
    SlotAlert.objects.create(
        patient=patient, doctor=doctor, date_from=day, date_until=day, insurance_type="statutory"
    )
    monkeypatch.setattr(
        CurrentMessage, "get_current_message", staticmethod(lambda: SimpleNamespace(message_id="slots-created-1"))
    )

    tasks.notify_slot_alerts(doctor.pk, before.starts_at.isoformat(), after.starts_at.isoformat())

    (mail,) = mailoutbox  # in-process the test settings' locmem backend keeps the email
    assert mail.to == [patient.email]
    listed = [line for line in mail.body.splitlines() if line.startswith("- ")]
    with translation.override(patient.language):
        expected = [
            f"- {dateformat.format(start, 'l, j. F Y')}, {dateformat.format(start, 'H:i')}"
            for start in (timezone.localtime(wanted.starts_at), timezone.localtime(wanted_later.starts_at))
        ]
    assert listed == expected
    assert f"week={day.isoformat()}" in mail.body
