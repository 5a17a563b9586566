"""The demo `make run` seeds: idempotent, several cities, and its printed logins work."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from bookings.models import Slot
from bookings.selectors import slots_free
from practices.models import Doctor, Membership, Practice
from terminfinder.accounts.models import User


def seed() -> str:
    out = io.StringIO()
    call_command("demo_data", "--force", "--weeks", "2", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_seeds_practices_in_several_cities_with_verified_and_pending_doctors():
    seed()
    assert Practice.objects.values("city").distinct().count() >= 3
    assert Doctor.objects.filter(verification_status=Doctor.Verification.VERIFIED).exists()
    assert Doctor.objects.filter(verification_status=Doctor.Verification.PENDING).exists()
    assert slots_free().exists()
    assert all(Membership.objects.filter(practice=p).exists() for p in Practice.objects.all())


@pytest.mark.django_db
def test_it_changes_nothing_when_run_twice():
    seed()
    counts = (User.objects.count(), Practice.objects.count(), Doctor.objects.count(), Slot.objects.count())
    output = seed()
    assert counts == (User.objects.count(), Practice.objects.count(), Doctor.objects.count(), Slot.objects.count())
    assert "0 new slots" in output


@pytest.mark.django_db
def test_it_prints_logins_that_open_the_admin(settings):
    settings.TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS = False  # as in the demo (DEBUG on)
    output = seed()
    assert "admin@terminfinder.local" in output and "praxis1@terminfinder.local" in output
    for email in ("admin@terminfinder.local", "praxis1@terminfinder.local"):
        client = Client()
        # The admin's login sends everyone to the one login (allauth).
        assert client.get("/admin/login/?next=/admin/", secure=True)["Location"] == (
            "/accounts/login/?next=%2Fadmin%2F"
        )
        response = client.post(
            "/accounts/login/?next=/admin/",
            {"login": email, "password": "terminfinder-demo"},
            secure=True,
        )
        assert response.status_code == 302 and response["Location"] == "/admin/", email
        assert client.get("/admin/", secure=True).status_code == 200


@pytest.mark.django_db
def test_it_refuses_to_run_without_debug():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_data", stdout=io.StringIO())
