"""Shared fixtures: two practices A and B and the fixed personas of every tenancy test.

Personas: platform admin, owner of A, staff of A, doctor-member of A, staff of B, a patient,
a second patient, and anonymous.
"""

from __future__ import annotations

from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test import Client
from django.utils import timezone

from bookings.models import Absence, AvailabilityRule, Booking, Slot, SlotAlert
from practices.models import (
    Doctor,
    FAQEntry,
    Membership,
    OpeningHours,
    Practice,
    Specialty,
    VisitReason,
)
from terminfinder.accounts.models import User

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _clean_queues_and_mail():
    """No test sees another's messages: Dramatiq's Redis keys and the SMTP server's mailbox are
    emptied before and after each test."""
    from tests.flow import reset_async_state

    reset_async_state()
    yield
    reset_async_state()


@pytest.fixture
def quiet_world(world) -> SimpleNamespace:
    """The world without the messages its own two bookings dispatched (with transaction=True
    they reach Redis as the fixture commits): tests that count emails start from zero."""
    from tests.flow import reset_async_state

    reset_async_state()
    return world


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL; `make test` runs these on a real server")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def make_user(email: str, verified: bool = True, **extra) -> User:
    """A user who can log in: allauth demands a verified email address (mandatory verification)."""
    user = User.objects.create_user(email=email, password=PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def make_practice(name: str, city: str, postal_code: str, **extra) -> Practice:
    slug = name.lower().replace(" ", "-")
    return Practice.objects.create(
        name=name,
        slug=slug,
        street="Hauptstraße 1",
        postal_code=postal_code,
        city=city,
        phone="+49 30 1234567",
        email=f"{slug}@example.org",
        **extra,
    )


def make_doctor(practice: Practice, specialty: Specialty, name: str, verified: bool = True) -> Doctor:
    return Doctor.objects.create(
        practice=practice,
        specialty=specialty,
        title="Dr. med.",
        name=name,
        verification_status=(
            Doctor.Verification.VERIFIED if verified else Doctor.Verification.PENDING
        ),
        verified_at=timezone.now() if verified else None,
    )


def make_slot(doctor: Doctor, days: int = 3, hour: int = 10, minutes: int = 30) -> Slot:
    start = timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(
        days=days
    )
    return Slot.objects.create(doctor=doctor, starts_at=start, ends_at=start + timedelta(minutes=minutes))


@pytest.fixture
def specialty(db) -> Specialty:
    return Specialty.objects.create(name="Allgemeinmedizin", name_en="General practice", slug="allgemeinmedizin")


def _tenant(name: str, city: str, postal_code: str, specialty: Specialty) -> SimpleNamespace:
    practice = make_practice(name, city, postal_code)
    OpeningHours.objects.create(practice=practice, weekday=0, opens=time(8), closes=time(18))
    doctor = make_doctor(practice, specialty, f"Doktor {name}")
    reason = VisitReason.objects.create(practice=practice, name=f"Sprechstunde {name}", duration_minutes=15)
    rule = AvailabilityRule.objects.create(
        doctor=doctor, weekday=0, start_time=time(9), end_time=time(12), slot_minutes=15
    )
    slot = make_slot(doctor)
    absence_start = timezone.now() + timedelta(days=20)
    absence = Absence.objects.create(
        doctor=doctor, starts_at=absence_start, ends_at=absence_start + timedelta(hours=4), reason="Fortbildung"
    )
    faq = FAQEntry.objects.create(practice=practice, question=f"Wo ist {name}?", answer="Hauptstraße 1")
    return SimpleNamespace(
        practice=practice,
        doctor=doctor,
        reason=reason,
        rule=rule,
        slot=slot,
        absence=absence,
        faq=faq,
        opening_hours=practice.opening_hours.first(),
    )


@pytest.fixture
def world(db, specialty) -> SimpleNamespace:
    """Practice A (Berlin) and B (München), each fully set up, with the personas."""
    a = _tenant("Praxis Alpha", "Berlin", "10115", specialty)
    b = _tenant("Praxis Beta", "München", "80331", specialty)

    admin = User.objects.create_superuser(email="admin@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=admin, email=admin.email, verified=True, primary=True)
    # Production requires platform admins to have TOTP set up before the admin opens.
    admin_totp_secret = generate_totp_secret()
    admin_totp = TOTP.activate(admin, admin_totp_secret).instance
    owner_a = make_user("owner-a@example.org", is_staff=True, full_name="Olga Owner")
    staff_a = make_user("staff-a@example.org", is_staff=True, full_name="Sam Staff")
    doctor_a = make_user("doctor-a@example.org", is_staff=True, full_name="Dana Doctor")
    staff_b = make_user("staff-b@example.org", is_staff=True, full_name="Bea Staff")
    owner_b = make_user("owner-b@example.org", is_staff=True, full_name="Bob Owner")
    patient = make_user("patient@example.org", full_name="Paula Patient")
    patient2 = make_user("patient2@example.org", full_name="Peter Patient")
    Membership.objects.create(user=owner_a, practice=a.practice, role=Membership.Role.OWNER)
    Membership.objects.create(user=staff_a, practice=a.practice, role=Membership.Role.STAFF)
    Membership.objects.create(user=doctor_a, practice=a.practice, role=Membership.Role.DOCTOR)
    Membership.objects.create(user=staff_b, practice=b.practice, role=Membership.Role.STAFF)
    Membership.objects.create(user=owner_b, practice=b.practice, role=Membership.Role.OWNER)

    for tenant, who in ((a, patient), (b, patient2)):
        tenant.booking = Booking.objects.create(
            slot=tenant.slot,
            doctor=tenant.doctor,
            starts_at=tenant.slot.starts_at,
            ends_at=tenant.slot.ends_at,
            patient=who,
            insurance_type="statutory",
            visit_reason=tenant.reason,
        )
        tenant.alert = SlotAlert.objects.create(
            patient=who,
            practice=tenant.practice,
            date_from=timezone.localdate(),
            date_until=timezone.localdate() + timedelta(days=14),
            insurance_type="statutory",
        )
        tenant.membership = tenant.practice.memberships.order_by("pk").first()

    return SimpleNamespace(
        a=a,
        b=b,
        specialty=specialty,
        admin=admin,
        admin_totp=admin_totp,
        admin_totp_secret=admin_totp_secret,
        owner_a=owner_a,
        staff_a=staff_a,
        doctor_a=doctor_a,
        staff_b=staff_b,
        owner_b=owner_b,
        patient=patient,
        patient2=patient2,
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' passwords hash in microseconds (the real hasher takes ~0.3 s each), and
    pages render without `collectstatic` (production's manifest storage needs it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def fresh_cache():
    """The cache is a real Redis database (allauth counts rate limits in it): each test starts
    with it empty, so one test's failed logins never lock out the next."""
    from django.core.cache import cache

    cache.clear()
    yield


class HttpsClient(Client):
    """Production settings redirect plain HTTP to HTTPS; pages are only ever used over HTTPS."""

    def generic(self, method, path, *args, secure=True, **kwargs):
        return super().generic(method, path, *args, secure=True, **kwargs)


@pytest.fixture
def web() -> HttpsClient:
    return HttpsClient()


@pytest.fixture
def patient_web(world) -> HttpsClient:
    client = HttpsClient()
    client.force_login(world.patient)
    return client
