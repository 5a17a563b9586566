"""Patients are addressed formally ("Sie") everywhere, also on allauth's pages, forms and emails.

django-allauth's bundled German catalog says "du"; locale_overrides/de/LC_MESSAGES/django.po
replaces each of those strings (see its header). These tests fail when an allauth upgrade brings
a new informal string (and name it), when an override no longer matches an allauth msgid or
lost a placeholder, when the committed .mo is stale, and when a page or email shows "du".
"""

from __future__ import annotations

import re
from pathlib import Path

import allauth
import pytest
from django.urls import reverse
from django.utils import translation

from tests.conftest import PASSWORD, make_user
from tests.test_page_translations import texts_of
from tests.test_translations import Entry, load_mo, mo_differences, parse_po

BASE_DIR = Path(__file__).resolve().parent.parent
OVERRIDES_PO = BASE_DIR / "locale_overrides" / "de" / "LC_MESSAGES" / "django.po"
OVERRIDES_MO = BASE_DIR / "locale_overrides" / "de" / "LC_MESSAGES" / "django.mo"
ALLAUTH_DE_PO = Path(allauth.__file__).resolve().parent / "locale" / "de" / "LC_MESSAGES" / "django.po"

# The informal address: pronouns, second-person verb forms and the informal imperatives allauth's
# catalog uses. Imperatives that are also German nouns ("Versuche", "Folge", "Klick") only match
# in lower case; "habe" only as "habe Geduld" ("Ich habe ... gespeichert" is first person).
INFORMAL = re.compile(
    r"\b(?:"
    r"[Dd]u|[Dd]ich|[Dd]ir|[Dd]ein\w*"
    r"|bist|hast|kannst|musst|möchtest|erhältst|verwendest|sendest|solltest|willst|wirst"
    r"|[Gg]ib|[Ww]ähle|versuche|[Mm]elde|[Vv]erknüpfe|[Bb]estätige|[Ll]ass|[Ee]rstelle"
    r"|[Kk]ontaktiere|[Üü]berprüfe|[Rr]ufe|folge|klicke?|habe Geduld"
    r")\b"
)
# %(name)s, %s, %d, {name}, {} and HTML tags: what an override must carry over unchanged.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif%]|\{\w*\}|</?[a-zA-Z][^>]*>")


def informal_words(text: str) -> list[str]:
    return sorted(set(INFORMAL.findall(text)))


def german_forms(entry: Entry) -> list[str]:
    return [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)] if entry.is_plural else [entry.msgstr]


def effective_german(entry: Entry) -> list[str]:
    """What Django serves in German for the entry's msgid (every plural form)."""
    with translation.override("de"):
        if not entry.is_plural:
            if entry.msgctxt is None:
                return [translation.gettext(entry.msgid)]
            return [translation.pgettext(entry.msgctxt, entry.msgid)]
        if entry.msgctxt is None:
            return [translation.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2)]
        return [translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n) for n in (1, 2)]


def key(entry: Entry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


# --- the detector ---------------------------------------------------------------------------


def test_the_detector_finds_the_informal_address_and_passes_the_formal_one():
    informal = [
        "Bitte gib dein aktuelles Passwort ein.",
        "Bitte bestätige deine E-Mail-Adresse",
        "Lass Dir bitte eine neue Bestätigungs-Mail schicken.",
        "Bitte wähle nur eine aus.",
        "Zu viele gescheiterte Anmeldeversuche. Bitte versuche es später erneut.",
        "Bitte kontaktiere uns.",
        "Bitte habe Geduld.",
        "Bitte klick auf den Link.",
    ]
    formal = [
        "Bitte geben Sie Ihr aktuelles Passwort ein.",
        "Bitte bestätigen Sie Ihre E-Mail-Adresse",
        "Zu viele fehlgeschlagene Anmeldeversuche. Bitte versuchen Sie es später erneut.",
        "Ich habe meine Wiederherstellungscodes gespeichert",
        "Sie haben noch kein Konto? Dann registrieren Sie sich bitte zuerst.",
        "Bitte haben Sie etwas Geduld: Sie senden zu viele Anfragen.",
    ]
    assert [text for text in informal if not informal_words(text)] == []
    assert {text: informal_words(text) for text in formal if informal_words(text)} == {}


# --- the catalogs -----------------------------------------------------------------------------


def test_no_informal_allauth_string_reaches_german_users():
    """Every allauth msgid whose bundled German is informal is served formally. An allauth
    upgrade that brings a new informal string fails here: add it to locale_overrides/."""
    _, entries = parse_po(ALLAUTH_DE_PO)
    assert len(entries) > 100, f"{ALLAUTH_DE_PO} looks truncated"
    informal = [e for e in entries if any(informal_words(form) for form in german_forms(e))]

    left = []
    for entry in informal:
        for served in effective_german(entry):
            if informal_words(served):
                left.append(f"{entry.label()}: {served!r} ({', '.join(informal_words(served))})")
    assert not left, (
        f"{len(left)} informal German string(s) of {ALLAUTH_DE_PO} (lines below) are not "
        f"overridden in {OVERRIDES_PO.relative_to(BASE_DIR)}:\n" + "\n".join(left)
    )


def test_the_overrides_have_a_valid_header():
    header, entries = parse_po(OVERRIDES_PO)

    assert "fuzzy" not in header["#flags"]
    assert header["Language"] == "de"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert entries
    assert [e.label() for e in entries if not e.is_translated or "fuzzy" in e.flags] == []
    duplicates = [e.label() for i, e in enumerate(entries) if key(e) in {key(o) for o in entries[:i]}]
    assert duplicates == []


def test_every_override_replaces_an_existing_allauth_msgid():
    """An override whose msgid allauth changed or dropped does nothing: update or remove it."""
    _, allauth_entries = parse_po(ALLAUTH_DE_PO)
    known = {key(e): e for e in allauth_entries}
    _, overrides = parse_po(OVERRIDES_PO)

    orphans = [e.label() for e in overrides if key(e) not in known]
    assert not orphans, "overrides of msgids that allauth's German catalog does not have:\n" + "\n".join(orphans)
    plural_mismatch = [e.label() for e in overrides if e.msgid_plural != known[key(e)].msgid_plural]
    assert plural_mismatch == []


def test_every_override_keeps_the_placeholders_of_its_msgid():
    _, overrides = parse_po(OVERRIDES_PO)

    problems = []
    for entry in overrides:
        sources = [entry.msgid, entry.msgid_plural] if entry.is_plural else [entry.msgid]
        expected = sorted(PLACEHOLDER.findall(sources[-1]))
        for form in german_forms(entry):
            got = sorted(PLACEHOLDER.findall(form))
            if got != expected:
                problems.append(f"{entry.label()}: {form!r} has {got}, msgid has {expected}")
    assert not problems, "\n".join(problems)


def test_the_overrides_are_formal():
    _, overrides = parse_po(OVERRIDES_PO)

    informal = {e.label(): informal_words(" ".join(german_forms(e))) for e in overrides}
    assert {label: words for label, words in informal.items() if words} == {}


def test_the_compiled_overrides_match_the_po():
    assert OVERRIDES_MO.is_file(), f"{OVERRIDES_MO} is missing: run `manage.py compilemessages` and commit it"
    assert load_mo(OVERRIDES_MO).info().get("language") == "de"
    stale = mo_differences(OVERRIDES_PO, OVERRIDES_MO)

    assert not stale, (
        f"{OVERRIDES_MO} is out of date with its .po ({len(stale)} difference(s)); run "
        "`DJANGO_DEBUG=1 python manage.py compilemessages --ignore=.venv` and commit the .mo:\n"
        + "\n".join(stale)
    )


def test_django_serves_every_override():
    """locale_overrides/ is in LOCALE_PATHS and wins over allauth (our own locale/ may still
    win over it, but it has none of these msgids)."""
    _, overrides = parse_po(OVERRIDES_PO)

    not_served = [
        f"{e.label()}: served {served!r}"
        for e in overrides
        for served, expected in zip(effective_german(e), german_forms(e))
        if served != expected
    ]
    assert not not_served, "\n".join(not_served)


# --- pages and emails -------------------------------------------------------------------------


def visible_text(response) -> str:
    """The page's visible text (and labels) in one line; a text node after a link closes up to
    it again ("an</a>." reads "an.")."""
    text = " ".join(" ".join(texts_of(response.content.decode())).split())
    return re.sub(r" ([.,:;!?])", r"\1", text)


def assert_formal(text: str, *expected: str) -> None:
    assert not informal_words(text), f"informal words {informal_words(text)} in: {text}"
    for phrase in expected:
        assert phrase in text, f"{phrase!r} missing from: {text}"


@pytest.mark.parametrize(
    "url_name, expected",
    [
        ("account_login", ["Sie haben noch kein Konto? Dann registrieren Sie sich bitte zuerst."]),
        ("account_signup", ["Sie haben bereits ein Konto? Dann melden Sie sich bitte an."]),
        ("account_reset_password", [
            "Geben Sie unten Ihre E-Mail-Adresse ein",
            "Bitte wenden Sie sich an uns, falls beim Zurücksetzen Ihres Passworts Probleme auftreten.",
        ]),
        ("account_email_verification_sent", [
            "Bestätigen Sie Ihre E-Mail-Adresse",
            "Wir haben Ihnen eine E-Mail zur Bestätigung gesendet.",
        ]),
    ],
    ids=["login", "signup", "password-reset", "verification-sent"],
)
def test_allauth_pages_address_the_visitor_formally(db, client, url_name, expected):
    response = client.get(reverse(url_name), secure=True)

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert_formal(visible_text(response), *expected)


def test_a_sign_up_form_error_is_formal(db, client):
    response = client.post(
        reverse("account_signup"),
        {"email": "neu@example.org", "password1": PASSWORD, "password2": PASSWORD + "-anders"},
        secure=True,
    )

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert_formal(visible_text(response), "Bitte geben Sie zweimal dasselbe Passwort ein.")


def test_the_password_reset_done_page_is_formal(db, client):
    response = client.post(reverse("account_reset_password"), {"email": "niemand@example.org"}, secure=True, follow=True)

    assert response.status_code == 200
    assert_formal(visible_text(response), "Wir haben Ihnen eine E-Mail gesendet.")


def sign_up(client, email):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}, secure=True
    )


@pytest.mark.parametrize(
    "scenario, subject, expected",
    [
        ("sign-up", "Bitte bestätigen Sie Ihre E-Mail-Adresse", [
            "Sie erhalten diese E-Mail, weil Benutzer",
            "Vielen Dank, dass Sie",
        ]),
        ("sign-up-known-address", "Konto existiert bereits", [
            "Sie erhalten diese E-Mail, weil Sie oder eine andere Person versucht hat",
            "können Sie über „Passwort vergessen“ wieder auf Ihr Konto zugreifen",
            "Vielen Dank, dass Sie",
        ]),
        ("password-reset", "E-Mail zum Zurücksetzen des Passworts", [
            "Sie erhalten diese E-Mail, weil Sie oder eine andere Person das Zurücksetzen des Passworts",
            "Klicken Sie auf den folgenden Link, um Ihr Passwort zurückzusetzen.",
            "Vielen Dank, dass Sie",
        ]),
    ],
    ids=["sign-up", "sign-up-known-address", "password-reset"],
)
def test_allauth_emails_address_the_recipient_formally(db, client, mailoutbox, scenario, subject, expected):
    make_user("bekannt@example.org")
    if scenario == "sign-up":
        response = sign_up(client, "neu@example.org")
    elif scenario == "sign-up-known-address":
        response = sign_up(client, "bekannt@example.org")
    else:
        response = client.post(reverse("account_reset_password"), {"email": "bekannt@example.org"}, secure=True)
    assert response.status_code == 302

    [message] = mailoutbox
    assert message.subject == f"[Terminfinder] {subject}"
    bodies = [message.body] + [content for content, mimetype in getattr(message, "alternatives", [])]
    for body in bodies:
        assert_formal(" ".join(body.split()), *expected)
    assert_formal(message.subject)
