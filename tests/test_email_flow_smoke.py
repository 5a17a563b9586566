import pytest

from bookings.services import booking_create
from tests import plugin
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_emails_a_confirmation_with_an_ics_attachment(world):
    smtp = plugin.smtp_server
    smtp.clear()
    slot = world.a.slot
    world.a.booking.delete()
    workers = WorkerGroup("high").start()
    try:
        booking = booking_create(
            patient=world.patient, slot=slot, visit_reason=world.a.reason, insurance_type="statutory"
        )
        mails = smtp.wait_for(1, timeout=30, predicate=lambda m: m["To"] == world.patient.email)
    finally:
        workers.stop()
    assert len(mails) == 1, workers.output()
    mail = mails[0]
    assert mail["To"] == world.patient.email
    ics = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(ics) == 1
    assert f"booking-{booking.public_id}@terminfinder".encode() in ics[0].get_payload(decode=True)
