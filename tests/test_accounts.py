"""Accounts through allauth: sign-up with mandatory email verification (mail caught by the real
SMTP server of the harness), password reset, no account enumeration, rate limits counted in the
real Redis cache, the admin's login and MFA for platform admins."""

from __future__ import annotations

import re
import time

import pytest
import redis
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.urls import reverse

from tests import plugin
from tests.conftest import PASSWORD, HttpsClient, make_user
from terminfinder.accounts.models import User

NEW_PASSWORD = "a-new-and-long-password-17"


@pytest.fixture
def mailbox(settings):
    """The harness's real SMTP server (pytest-django would swap in the memory backend)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    plugin.smtp_server.clear()
    return plugin.smtp_server


def to(address):
    return lambda message: address in message["To"]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, pattern: str) -> str:
    found = re.search(r"https?://[^\s]+" + pattern + r"[^\s]*", body(message))
    assert found, body(message)
    return found.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def sign_up(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_signup"), {"email": email, "password1": password, "password2": password})


def log_in(client, email: str, password: str = PASSWORD, next_url: str = ""):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": password})


def open_totp_setup(client):
    """allauth asks for the password again before a second factor is added."""
    first = client.get(reverse("mfa_activate_totp"))
    assert first.status_code == 302 and first["Location"].startswith(reverse("account_reauthenticate"))
    again = client.post(first["Location"], {"password": PASSWORD})
    assert again["Location"] == reverse("mfa_activate_totp")
    return client.get(reverse("mfa_activate_totp"))


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


# --- Sign-up and verification ------------------------------------------------------------------


def test_it_signs_up_only_after_the_email_link_is_followed(db, web, mailbox):
    response = sign_up(web, "neu@example.org")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in web.session
    [message] = mailbox.wait_for(1, predicate=to("neu@example.org"))
    assert not EmailAddress.objects.get(email="neu@example.org").verified

    confirm = link_in(message, "/accounts/confirm-email/")
    assert web.get(confirm).status_code == 200
    done = web.post(confirm)

    assert done.status_code == 302
    assert EmailAddress.objects.get(email="neu@example.org").verified
    assert web.session["_auth_user_id"] == str(User.objects.get(email="neu@example.org").pk)


def test_it_refuses_a_login_before_the_address_is_verified(db, web, mailbox):
    make_user("unverified@example.org", verified=False)

    response = log_in(web, "unverified@example.org")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in web.session
    assert mailbox.wait_for(1, predicate=to("unverified@example.org"))


def test_it_answers_a_sign_up_for_a_known_address_like_any_other(world, web, mailbox):
    known = sign_up(HttpsClient(), world.patient.email)
    new = sign_up(web, "someone-new@example.org")

    assert (known.status_code, known["Location"]) == (new.status_code, new["Location"])
    # The owner of the known address hears about it by email; nobody else learns anything.
    [message] = mailbox.wait_for(1, predicate=to(world.patient.email))
    assert User.objects.filter(email=world.patient.email).count() == 1
    assert "confirm-email" not in body(message)


# --- Password reset -------------------------------------------------------------------------------


def test_it_resets_a_password_by_the_emailed_link(world, web, mailbox):
    response = web.post(reverse("account_reset_password"), {"email": world.patient.email})
    assert response["Location"] == reverse("account_reset_password_done")
    [message] = mailbox.wait_for(1, predicate=to(world.patient.email))

    link = link_in(message, "/accounts/password/reset/key/")
    form_page = web.get(link, follow=True)
    action = form_page.request["PATH_INFO"]
    web.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    world.patient.refresh_from_db()
    assert world.patient.check_password(NEW_PASSWORD)


def test_it_answers_a_reset_for_an_unknown_address_like_for_a_known_one(world, web, mailbox):
    known = HttpsClient().post(reverse("account_reset_password"), {"email": world.patient.email})
    unknown = web.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    [message] = mailbox.wait_for(1, predicate=to("nobody@example.org"))
    assert "/accounts/password/reset/key/" not in body(message)


# --- Rate limits, on the shared cache -------------------------------------------------------------


def test_it_locks_an_address_after_five_failed_logins_even_with_the_right_password(world, web):
    for _ in range(5):
        assert log_in(web, world.patient.email, "wrong-password").status_code == 200

    response = log_in(HttpsClient(), world.patient.email)

    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session
    assert response.context["form"].errors


def test_it_counts_failed_logins_in_the_shared_redis_cache(world, web):
    assert settings.CACHES["default"]["BACKEND"] == "terminfinder.cache.FailOpenRedisCache"
    log_in(web, world.patient.email, "wrong-password")

    keys = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).keys("*login_failed*")

    assert keys


def test_it_answers_too_many_sign_ups_from_one_address_with_429(db, web, mailbox):
    statuses = [sign_up(web, f"flood{i}@example.org").status_code for i in range(21)]

    assert statuses[:20] == [302] * 20
    assert statuses[20] == 429


# --- Admin login and MFA -------------------------------------------------------------------------


def test_it_sends_the_admin_login_to_the_one_login(db, web):
    response = web.get(reverse("admin:login") + "?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2F"


def test_it_opens_the_admin_to_staff_after_an_allauth_login(world, web):
    response = log_in(web, world.staff_a.email, next_url="/admin/")

    assert response["Location"] == "/admin/"
    assert web.get("/admin/").status_code == 200


def test_it_asks_a_platform_admin_with_totp_for_the_code(world, web):
    response = log_in(web, world.admin.email, next_url="/admin/")

    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in web.session
    done = web.post(reverse("mfa_authenticate"), {"code": totp_code(world.admin_totp_secret)})
    assert done["Location"] == "/admin/"
    assert web.get("/admin/").status_code == 200


def test_it_keeps_the_admin_closed_to_a_platform_admin_without_totp(world, web, settings):
    settings.TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS = True
    world.admin_totp.delete()
    log_in(web, world.admin.email)

    response = web.get("/admin/bookings/booking/")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    assert open_totp_setup(web).status_code == 200


def test_it_opens_the_admin_without_totp_when_the_setting_is_off(world, web, settings):
    settings.TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS = False
    world.admin_totp.delete()
    web.force_login(world.admin)

    assert web.get("/admin/").status_code == 200


def test_it_requires_no_totp_of_practice_staff(world, web, settings):
    settings.TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS = True
    web.force_login(world.owner_a)

    assert web.get("/admin/").status_code == 200


def test_it_offers_totp_to_every_user(world, web):
    log_in(web, world.patient.email)

    response = open_totp_setup(web)

    assert response.status_code == 200
    assert response.context["form"]


def test_it_defaults_the_mfa_requirement_to_on_in_production_and_off_in_the_demo():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS)"
    results = {}
    for debug in ("0", "1"):
        env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "terminfinder.settings", "DJANGO_DEBUG": debug,
               "DJANGO_SECRET_KEY": "x" * 60}
        out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env,
                             capture_output=True, text=True, cwd=settings.BASE_DIR, check=True)
        results[debug] = out.stdout.strip()
    assert results == {"0": "True", "1": "False"}
