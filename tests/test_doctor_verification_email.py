"""A platform admin verifies a doctor with the admin action: the doctor gets the email (`default`)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from practices.models import Doctor
from tests import plugin
from tests.conftest import make_doctor
from tests.flow import body, to
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_emails_the_doctor_verified_by_the_admin_action(quiet_world):
    world = quiet_world
    smtp = plugin.smtp_server
    doctor = make_doctor(world.a.practice, world.specialty, "Neu", verified=False)
    Doctor.objects.filter(pk=doctor.pk).update(email="dr.neu@example.org")
    admin = Client()
    admin.force_login(world.admin)
    workers = WorkerGroup("default").start()
    try:
        response = admin.post(
            reverse("admin:practices_doctor_changelist"),
            {"action": "verify_doctors", "_selected_action": [doctor.pk]},
            secure=True,
        )
        assert response.status_code == 302
        mails = smtp.wait_for(1, timeout=30, predicate=to("dr.neu@example.org"))
    finally:
        workers.stop()
    doctor.refresh_from_db()
    assert doctor.verification_status == Doctor.Verification.VERIFIED
    assert doctor.verified_by == world.admin
    assert len(mails) == 1, workers.output()
    with translation.override("de"):
        assert mails[0]["Subject"].strip() == gettext("Your Terminfinder profile is verified")
    assert world.a.practice.name in body(mails[0], "plain")
    assert body(mails[0], "html")
    assert smtp.received(to(world.a.practice.email)) == []  # the doctor's own address wins
