"""Every page speaks German by default and English on request, with no UI text left
untranslated: each page is rendered in both languages, and any visible text (or accessible
label) that comes out the same in both must be data (names, addresses, times), not UI."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from bookings.services import booking_create
from practices.models import FAQEntry, Specialty, VisitReason
from tests.conftest import HttpsClient, make_slot

# Words that are the same in German and English, and the names of the languages in the switch.
SAME_IN_BOTH = {"Terminfinder", "Status", "English", "Deutsch", "Dr. med.", "E-Mail", "Name", "Passkey"}
LETTERS = re.compile(r"[A-Za-zÄÖÜäöüß]")


class TextCollector(HTMLParser):
    """Visible text nodes and the labels assistive technology reads."""

    LABELS = ("aria-label", "placeholder", "title", "alt")

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code"):
            self._skip += 1
        attributes = dict(attrs)
        for name in self.LABELS:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
            self.texts.append(attributes["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def texts_of(html: str) -> list[str]:
    collector = TextCollector()
    collector.feed(html)
    return collector.texts


def data_strings(world, booking) -> list[str]:
    values = set(SAME_IN_BOTH)
    for tenant in (world.a, world.b):
        practice = tenant.practice
        values |= {practice.name, practice.street, practice.city, practice.postal_code, practice.phone,
                   practice.email, str(practice), f"{practice.postal_code} {practice.city}", str(tenant.doctor)}
    values |= {s.name for s in Specialty.objects.all()} | {s.name_en for s in Specialty.objects.all()}
    values |= {r.name for r in VisitReason.objects.all()} | {r.name_en for r in VisitReason.objects.all()}
    values |= {f.question for f in FAQEntry.objects.all()} | {f.answer for f in FAQEntry.objects.all()}
    values |= {world.patient.email, booking.code}
    return sorted((v for v in values if v), key=len, reverse=True)


def untranslated(de: list[str], en: list[str], data: list[str]) -> list[str]:
    problems = []
    for text in sorted(set(de) & set(en)):
        rest = text
        for value in data:
            rest = rest.replace(value, "")
        if LETTERS.search(rest):
            problems.append(text)
    return problems


@pytest.fixture
def pages(world):
    free = make_slot(world.a.doctor, days=4, hour=9)
    taken = make_slot(world.a.doctor, days=4, hour=11)
    booking = booking_create(patient=world.patient2, slot=taken, visit_reason=world.a.reason, insurance_type="statutory")
    reason = world.a.reason
    picker = f"?insurance=statutory&reason={reason.public_id}"
    anonymous = {
        "home": reverse("home"),
        "search": reverse("bookings:search") + f"?place=Berlin&insurance=statutory&specialty={world.specialty.slug}",
        "search-empty": reverse("bookings:search") + f"?place=Hamburg&insurance=statutory&specialty={world.specialty.slug}",
        "practice": reverse("practices:detail", args=[world.a.practice.public_id]),
        "doctor-slots": reverse("bookings:doctor-slots", args=[world.a.doctor.public_id]) + picker,
        "login": reverse("account_login"),
        "signup": reverse("account_signup"),
        "password-reset": reverse("account_reset_password"),
        "help": reverse("chatbot:help"),
    }
    personal = {
        "book": reverse("bookings:book", args=[free.public_id]) + picker,
        "appointments": reverse("bookings:appointments"),
        "appointment": reverse("bookings:appointment", args=[world.a.booking.public_id]),
        "cancel": reverse("bookings:appointment-cancel", args=[world.a.booking.public_id]),
        "alerts": reverse("bookings:alerts"),
        "alert-new": reverse("bookings:alert-new") + f"?doctor={world.a.doctor.public_id}&reason={reason.public_id}",
        "account": reverse("bookings:account"),
        "account-delete": reverse("bookings:account-delete"),
    }
    slot_taken = (reverse("bookings:book", args=[taken.public_id]) + picker,
                  {"reason": reason.public_id, "insurance": "statutory", "idempotency_key": "k1"})
    return anonymous, personal, slot_taken, booking


def render(world, url: str, language: str, personal: bool, post=None) -> str:
    client = HttpsClient(headers={"accept-language": language})
    if personal:
        client.force_login(world.patient)
    response = client.post(url, post) if post is not None else client.get(url)
    assert response.status_code in (200, 409), (url, response.status_code)
    assert response["Content-Language"] == language
    return response.content.decode()


def test_every_page_has_no_untranslated_text(world, pages):
    anonymous, personal, (taken_url, taken_post), booking = pages
    data = data_strings(world, booking)
    problems = {}
    cases = [(name, url, False, None) for name, url in anonymous.items()]
    cases += [(name, url, True, None) for name, url in personal.items()]
    cases += [("slot-taken", taken_url, True, taken_post)]
    for name, url, login, post in cases:
        de = texts_of(render(world, url, "de", login, post))
        en = texts_of(render(world, url, "en", login, post))
        found = untranslated(de, en, data)
        if found:
            problems[name] = found
    assert not problems, problems


def test_the_check_finds_an_untranslated_text():
    """The control: UI text that stays English in German is reported; data is not."""
    de = texts_of("<h1>Termine</h1><p>Book now</p><p>Praxis Alpha · 10:30</p>")
    en = texts_of("<h1>Appointments</h1><p>Book now</p><p>Praxis Alpha · 10:30</p>")

    assert untranslated(de, en, ["Praxis Alpha"]) == ["Book now"]


def test_pages_are_german_by_default(world, pages):
    anonymous, personal, _, _ = pages
    client = HttpsClient()
    response = client.get(anonymous["search"])

    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()
    assert "Termine suchen" in response.content.decode()
