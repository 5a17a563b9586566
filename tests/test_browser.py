"""The patient's journey in a real browser: Debian's Chromium driven by Playwright against a
live server, mail caught by the harness's SMTP server. Every page is screenshot into
artifacts/screenshots/ and checked with axe-core (no serious or critical violation).

Run alone with `pytest -m browser`; skip with `-m "not browser"`.
"""

from __future__ import annotations

import re

import pytest

from bookings.models import Booking, SlotAlert
from bookings.services import booking_create
from tests import plugin
from tests.browser import SCREENSHOTS, browser, server, visit  # noqa: F401 (fixtures)
from tests.conftest import make_slot
from terminfinder.accounts.models import User

pytestmark = pytest.mark.browser

EMAIL = "neue.patientin@example.org"
PASSWORD = "Sonnenblume-im-Juli-42"
NOTE = "Bitte kurz vorher anrufen, Hanna"


def confirmation_link(address: str) -> str:
    [message] = plugin.smtp_server.wait_for(1, predicate=lambda m: address in m["To"])
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://\S+/accounts/confirm-email/\S+", text).group(0)


def test_a_patient_signs_up_books_cancels_subscribes_and_switches_language(world, visit):
    doctor, reason = world.a.doctor, world.a.reason
    first, second, third = (make_slot(doctor, days=5, hour=h, minutes=30) for h in (9, 10, 11))
    page = visit.page

    # Search as a visitor.
    visit.open("/")
    visit.check("home")
    page.get_by_label("Fachrichtung").select_option(world.specialty.slug)
    page.get_by_label("Ort oder Postleitzahl").fill("Berlin")
    page.get_by_role("button", name="Suche", exact=True).click()
    page.wait_for_url("**/suche/**")
    visit.check("search")
    assert page.get_by_role("heading", name="Praxis Alpha").is_visible()

    page.get_by_role("link", name="Praxis Alpha").click()
    visit.check("practice")
    assert page.get_by_text("Wo ist Praxis Alpha?").is_visible()
    page.get_by_role("link", name="Freie Termine anzeigen").first.click()
    page.get_by_label("Besuchsgrund").select_option(label=reason.name)
    page.get_by_role("button", name="Termine anzeigen").click()
    page.wait_for_url("**reason=**")
    visit.check("doctor-week")

    # A slot: log in or sign up on the way.
    page.locator(f"a[href*='{first.public_id}']").click()
    page.wait_for_url("**/accounts/login/**")
    visit.check("login")
    page.get_by_role("main").get_by_role("link", name="registrieren Sie sich").click()  # "Dann registrieren Sie sich bitte zuerst."
    visit.check("signup")
    page.get_by_label("E-Mail").fill(EMAIL)
    page.get_by_label("Passwort:", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort (Wiederholung)").fill(PASSWORD)
    page.get_by_role("button", name="Registrieren").click()
    page.wait_for_url("**/accounts/confirm-email/")
    visit.check("verification-sent")

    page.goto(confirmation_link(EMAIL))
    visit.check("confirm-email")
    page.get_by_role("button", name="Bestätigen").click()
    page.wait_for_load_state("load")
    assert f"/termine/{first.public_id}/buchen/" in page.url, page.url
    visit.check("book")

    # Between page view and submit, someone else takes the slot.
    booking_create(patient=world.patient2, slot=first, visit_reason=reason, insurance_type="statutory")
    page.get_by_role("button", name="Jetzt buchen").click()
    assert page.get_by_role("alert").is_visible()
    visit.check("slot-taken")
    page.locator(f"a[href*='{second.public_id}']").first.click()
    page.get_by_label("Ich bin neu in dieser Praxis").check()
    page.get_by_label("Hinweis für die Praxis (optional)").fill(NOTE)
    page.get_by_role("button", name="Jetzt buchen").click()
    page.wait_for_url("**/meine-termine/*/")
    visit.check("confirmation")
    patient = User.objects.get(email=EMAIL)
    booking = Booking.objects.get(patient=patient, status=Booking.Status.CONFIRMED)
    assert (booking.slot_id, booking.new_patient, booking.note) == (second.pk, True, NOTE)
    assert page.get_by_text(booking.code).is_visible()
    ics_href = page.get_by_role("link", name="Zum Kalender hinzufügen (.ics)").get_attribute("href")
    ics = page.request.get(visit.base_url + ics_href)
    assert ics.headers["content-type"].startswith("text/calendar")
    assert f"UID:booking-{booking.public_id}@terminfinder" in ics.text()

    # My appointments, then cancel with a confirmation step.
    page.get_by_role("link", name="Meine Termine").click()
    visit.check("my-appointments")
    page.locator(f"a[href$='/meine-termine/{booking.public_id}/']").click()
    visit.check("appointment")
    page.get_by_role("link", name="Termin absagen").click()
    visit.check("cancel-confirm")
    page.get_by_role("button", name="Ja, Termin absagen").click()
    page.wait_for_url("**/meine-termine/")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    visit.check("my-appointments-after-cancel")

    # Notify me, list the alert, end it.
    visit.open(f"/aerzte/{doctor.public_id}/termine/?insurance=statutory&reason={reason.public_id}")
    page.get_by_role("link", name=re.compile("Benachrichtigen Sie mich")).click()
    visit.check("alert-new")
    page.get_by_role("button", name="Benachrichtigen Sie mich").click()
    page.wait_for_url("**/benachrichtigungen/")
    visit.check("alerts")
    alert = SlotAlert.objects.get(patient=patient)
    assert (alert.doctor, alert.visit_reason, alert.is_active) == (doctor, reason, True)
    page.get_by_role("button", name="Benachrichtigung beenden").click()
    alert.refresh_from_db()
    assert not alert.is_active

    # The account, then English.
    page.get_by_role("link", name="Konto").click()
    visit.check("account")
    page.get_by_label("Vollständiger Name").fill("Hanna Beispiel")
    page.get_by_label("Telefon").fill("+49 151 2345678")
    page.get_by_role("button", name="Speichern").click()
    visit.open("/konto/loeschen/")
    visit.check("account-delete")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Delete my account").is_visible()
    visit.check("account-delete-en")
    visit.open("/suche/?place=Berlin&insurance=statutory")
    visit.check("search-en")
    assert page.get_by_role("heading", name="Search appointments").is_visible()
    patient.refresh_from_db()
    assert patient.language == "en"

    # Logged out pages, in English now.
    page.get_by_role("button", name="Log out").click()
    visit.open("/accounts/password/reset/")
    visit.check("password-reset-en")

    personal = [EMAIL, NOTE, "Hanna", "2345678", "Hanna%20Beispiel", EMAIL.replace("@", "%40")]
    leaked = [url for url in visit.requested for text in personal if text in url]
    assert leaked == [], "personal data in URLs"
    assert visit.violations == {}, visit.violations
    assert visit.count >= 20


def test_the_pages_fit_a_phone_screen(world, browser, server):
    make_slot(world.a.doctor, days=5, hour=9)
    context = browser.new_context(locale="de-DE", viewport={"width": 360, "height": 740})
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for name, path in [
            ("phone-search", f"/suche/?place=Berlin&insurance=statutory&specialty={world.specialty.slug}"),
            ("phone-doctor-week", f"/aerzte/{world.a.doctor.public_id}/termine/?insurance=statutory&reason={world.a.reason.public_id}"),
            ("phone-practice", f"/praxen/{world.a.practice.public_id}/"),
        ]:
            page.goto(server.url + path)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    finally:
        context.close()
