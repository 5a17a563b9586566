"""allauth's account pages and the alert unsubscribe page in a real browser: what a signed-in
patient reaches from the account (email addresses, password change, two-factor authentication
with its re-authentication step, logout) and what an anonymous visitor meets (login with an
unverified address, password reset from request to the emailed link, the unsubscribe link of a
slot-alert email). Every page is screenshot into artifacts/screenshots/accounts/, checked with
axe-core (no serious or critical violation) and must be German by default.
"""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.urls import reverse
from playwright.sync_api import expect

from notifications.tasks import unsubscribe_token
from tests import plugin
from tests.browser import SCREENSHOTS, browser, new_visit, server  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser

NEW_PASSWORD = "Kastanienallee-im-Herbst-17"


@pytest.fixture
def visit(browser, server):
    """A German tab whose screenshots go to artifacts/screenshots/accounts/."""
    tab = new_visit(browser, server, SCREENSHOTS / "accounts")
    yield tab
    tab.page.context.close()


def check(visit, name: str) -> None:
    """Screenshot and axe (violations collect in visit.violations); the page must be German."""
    visit.check(name)
    assert visit.page.locator("html").get_attribute("lang") == "de", f"{name}: not German"


def mailed_link(address: str, pattern: str) -> str:
    [message] = plugin.smtp_server.wait_for(1, predicate=lambda m: address in m["To"])
    plugin.smtp_server.clear()
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(rf"http://\S+{pattern}\S*", text).group(0)


def log_in(page, email: str, password: str) -> None:
    main = page.get_by_role("main")
    main.get_by_label("E-Mail").fill(email)
    main.get_by_label("Passwort:", exact=True).fill(password)
    main.get_by_role("button", name="Anmeldung").click()


def test_the_account_pages_signed_in_and_anonymous(world, visit):
    page = visit.page
    patient, alert = world.patient, world.a.alert

    # The unsubscribe link of a slot-alert email: no login needed.
    unsubscribe = reverse("notifications:alert-unsubscribe", args=[unsubscribe_token(alert)])
    visit.open(unsubscribe)
    check(visit, "alert-unsubscribe")
    page.get_by_role("button", name="Terminbenachrichtigung beenden").click()
    expect(page.get_by_text("Ihre Terminbenachrichtigung wurde beendet.")).to_be_visible()
    check(visit, "alert-unsubscribe-done")
    alert.refresh_from_db()
    assert not alert.is_active
    response = page.goto(visit.base_url + unsubscribe[:-6] + "xxxxx/")  # a broken signature
    assert response.status == 404
    assert page.get_by_role("button").filter(has_text="beenden").count() == 0
    check(visit, "alert-unsubscribe-invalid")

    # Logging in with an address not yet confirmed sends a confirmation email instead.
    unverified = make_user("noch.nicht.bestaetigt@example.org", verified=False)
    visit.open("/accounts/login/")
    log_in(page, unverified.email, PASSWORD)
    page.wait_for_url("**/accounts/confirm-email/")
    check(visit, "login-verification-sent")
    assert mailed_link(unverified.email, "/accounts/confirm-email/")

    # Password reset: request, done, the emailed link, the new password.
    visit.open("/accounts/password/reset/")
    check(visit, "password-reset")
    page.get_by_role("main").get_by_label("E-Mail").fill(patient.email)
    page.get_by_role("button", name="Passwort zurücksetzen").click()
    page.wait_for_url("**/accounts/password/reset/done/")
    check(visit, "password-reset-done")
    link = mailed_link(patient.email, "/accounts/password/reset/key/")
    page.goto(link)
    page.wait_for_url("**/key/*-set-password/")
    check(visit, "password-reset-from-key")
    page.get_by_label("Neues Passwort:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort (Wiederholung)").fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Passwort ändern").click()
    page.wait_for_url("**/accounts/password/reset/key/done/")
    check(visit, "password-reset-from-key-done")
    page.goto(link)
    check(visit, "password-reset-from-key-used")

    # Signed in: email addresses, password change.
    visit.open("/accounts/login/")
    log_in(page, patient.email, NEW_PASSWORD)
    page.wait_for_url("**/meine-termine/")
    visit.open("/accounts/email/")
    check(visit, "email")
    page.get_by_role("main").get_by_label("E-Mail").fill("zweite.adresse@example.org")
    page.get_by_role("button", name="E-Mail hinzufügen").click()
    expect(page.get_by_role("radio", name="zweite.adresse@example.org")).to_be_visible()
    check(visit, "email-added")
    # Two-factor authentication needs every address confirmed: remove the new one again
    # (allauth's script asks first).
    page.get_by_role("radio", name="zweite.adresse@example.org").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Entfernen").click()
    expect(page.get_by_role("radio", name="zweite.adresse@example.org")).to_have_count(0)
    visit.open("/accounts/password/change/")
    check(visit, "password-change")

    # Two-factor authentication: the overview, then activation after re-authenticating.
    visit.open("/accounts/2fa/")
    check(visit, "mfa")
    page.get_by_role("main").get_by_role("link", name="Aktivieren").first.click()
    page.wait_for_url("**/accounts/reauthenticate/**")
    check(visit, "reauthenticate")
    page.get_by_role("main").get_by_label("Passwort:", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Bestätigen").click()
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    check(visit, "totp-activate")
    secret = page.locator("#authenticator_secret").input_value()
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    page.get_by_role("main").get_by_label("Authentifizierungscode").fill(code)
    page.get_by_role("main").get_by_role("button", name="Aktivieren").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    assert Authenticator.objects.filter(user=patient, type=Authenticator.Type.TOTP).exists()
    check(visit, "recovery-codes")
    visit.open("/accounts/2fa/")
    check(visit, "mfa-active")

    # Logout asks first.
    visit.open("/accounts/logout/")
    check(visit, "logout")
    page.get_by_role("main").get_by_role("button", name="Abmelden").click()
    page.wait_for_url(visit.base_url + "/")
    expect(page.get_by_role("navigation").get_by_role("link", name="Anmelden")).to_be_visible()

    assert visit.violations == {}, visit.violations
