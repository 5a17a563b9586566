"""The German catalog is complete, its committed .mo matches the .po, and pages and models speak
German by default and English on request.

The .po is parsed with the standard library only (no polib), and the .mo is read with
gettext.GNUTranslations, so neither gettext nor an extra package is needed to run these tests.
"""

from __future__ import annotations

import ast
import gettext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from bookings.models import AvailabilityRule, Booking, Slot
from practices.models import InsuranceType, Practice, VisitReason

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DE_PO = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po"
DE_MO = LOCALE_DIR / "de" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_plural(self) -> bool:
        return self.msgid_plural is not None

    @property
    def is_translated(self) -> bool:
        if self.is_plural:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values())
        return bool(self.msgstr)

    def label(self) -> str:
        context = f" (context {self.msgctxt!r})" if self.msgctxt is not None else ""
        return f"line {self.line}: {self.msgid!r}{context}"


def parse_po(path: Path) -> tuple[dict[str, str], list[Entry]]:
    """The header's fields and the entries of a PO file; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    flags: set[str] = set()
    current: str | None = None  # "msgid", "msgid_plural", "msgctxt", "msgstr" or "msgstr[N]"

    def store(key: str, text: str) -> None:
        if key.startswith("msgstr["):
            index = int(key[len("msgstr[") : -1])
            entry.msgstr_plural[index] = entry.msgstr_plural.get(index, "") + text
        else:
            setattr(entry, key, (getattr(entry, key) or "") + text)

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert entry is not None and current is not None, f"{path}:{number}: stray string"
            store(current, ast.literal_eval(line))
            continue
        keyword, _, value = line.partition(" ")
        # A new entry starts at msgctxt, or at msgid when no msgctxt came just before it.
        if keyword == "msgctxt" or (keyword == "msgid" and current != "msgctxt"):
            entry = Entry(flags=flags, line=number)
            entries.append(entry)
            flags = set()
        assert entry is not None, f"{path}:{number}: {keyword} before any msgid"
        current = keyword
        if keyword == "msgctxt":
            entry.msgctxt = ""
        elif keyword == "msgid_plural":
            entry.msgid_plural = ""
        store(keyword, ast.literal_eval(value))

    assert entries and entries[0].msgid == "", f"{path} has no header entry"
    header_entry, *messages = entries
    header = {}
    for header_line in header_entry.msgstr.splitlines():
        key, _, value = header_line.partition(":")
        header[key.strip()] = value.strip()
    header["#flags"] = ", ".join(sorted(header_entry.flags))
    return header, messages


class _Missing(gettext.NullTranslations):
    """Fallback that marks a lookup the .mo could not answer, instead of echoing the msgid."""

    MARK = "\x00missing\x00"

    def gettext(self, message):
        return self.MARK

    def ngettext(self, msgid1, msgid2, n):
        return self.MARK

    def pgettext(self, context, message):
        return self.MARK

    def npgettext(self, context, msgid1, msgid2, n):
        return self.MARK


def _shown(got: str) -> str:
    return "no such entry" if got == _Missing.MARK else repr(got)


def load_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    catalog.add_fallback(_Missing())
    return catalog


# --- (a) the German catalog is complete ---------------------------------------------------


def test_the_german_catalog_has_a_valid_header():
    header, _ = parse_po(DE_PO)

    assert "fuzzy" not in header["#flags"]
    assert header["Language"] == "de"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_every_german_msgid_is_translated_and_none_is_fuzzy():
    _, entries = parse_po(DE_PO)
    assert len(entries) > 100, "the German catalog looks truncated"

    untranslated = [entry.label() for entry in entries if not entry.is_translated]
    fuzzy = [entry.label() for entry in entries if "fuzzy" in entry.flags]

    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} msgid(s) without a German msgstr:")
        problems += untranslated
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy entr(y/ies):")
        problems += fuzzy
    assert not problems, f"{DE_PO} is incomplete:\n" + "\n".join(problems)


def test_german_plurals_have_both_forms_and_keep_their_placeholder():
    _, entries = parse_po(DE_PO)
    plurals = [entry for entry in entries if entry.is_plural]
    assert plurals

    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0, 1], entry.label()
        if "python-format" in entry.flags:
            for form in entry.msgstr_plural.values():
                assert "%d" in form, f"{entry.label()}: {form!r} lost its %d"


def test_the_english_catalog_has_a_valid_header_and_falls_back_to_the_msgids():
    header, entries = parse_po(EN_PO)

    assert "fuzzy" not in header["#flags"]
    assert header["Language"] == "en"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert entries
    assert not [entry.label() for entry in entries if entry.is_translated]


# --- (b) the committed .mo is compiled from the current .po -------------------------------


@pytest.mark.parametrize("po, mo", [(DE_PO, DE_MO), (EN_PO, EN_MO)], ids=["de", "en"])
def test_the_compiled_catalog_exists(po, mo):
    assert mo.is_file(), f"{mo} is missing: run `manage.py compilemessages` and commit it"
    header, _ = parse_po(po)
    assert load_mo(mo).info().get("language") == header["Language"]


def mo_differences(po: Path, mo: Path) -> list[str]:
    """Every translated, non-fuzzy entry of `po` whose compiled translation in `mo` differs
    (also used for locale_overrides/, see test_formal_german.py)."""
    _, entries = parse_po(po)
    catalog = load_mo(mo)

    stale = []
    for entry in entries:
        if not entry.is_translated or "fuzzy" in entry.flags:
            continue
        if entry.is_plural:
            for index, expected in sorted(entry.msgstr_plural.items()):
                n = 1 if index == 0 else 2  # German: form 0 for n == 1, form 1 otherwise
                if entry.msgctxt is None:
                    got = catalog.ngettext(entry.msgid, entry.msgid_plural, n)
                else:
                    got = catalog.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if got != expected:
                    stale.append(f"{entry.label()} [form {index}]: .mo has {_shown(got)}, .po {expected!r}")
        else:
            if entry.msgctxt is None:
                got = catalog.gettext(entry.msgid)
            else:
                got = catalog.pgettext(entry.msgctxt, entry.msgid)
            if got != entry.msgstr:
                stale.append(f"{entry.label()}: .mo has {_shown(got)}, .po {entry.msgstr!r}")
    return stale


def test_the_compiled_german_catalog_matches_the_po():
    stale = mo_differences(DE_PO, DE_MO)

    assert not stale, (
        f"{DE_MO} is out of date with {DE_PO.name} ({len(stale)} difference(s)); run "
        "`DJANGO_DEBUG=1 python manage.py compilemessages --ignore=.venv` and commit the .mo:\n"
        + "\n".join(stale)
    )


# --- (c) Django serves the translations ---------------------------------------------------


def test_model_names_and_choices_are_german_under_de():
    with translation.override("de"):
        assert str(Practice._meta.verbose_name) == "Praxis"
        assert str(Practice._meta.verbose_name_plural) == "Praxen"
        assert str(Booking._meta.verbose_name_plural) == "Buchungen"
        assert str(VisitReason._meta.verbose_name) == "Besuchsgrund"
        assert str(AvailabilityRule._meta.verbose_name) == "Sprechzeitenregel"
        assert str(Slot._meta.verbose_name_plural) == "Termine"
        assert str(InsuranceType.STATUTORY.label) == "Gesetzlich (GKV)"
        assert str(InsuranceType.SELF_PAY.label) == "Selbstzahler"
        assert translation.ngettext("%d booking cancelled.", "%d bookings cancelled.", 1) % 1 == (
            "1 Buchung abgesagt."
        )
        assert translation.ngettext("%d booking cancelled.", "%d bookings cancelled.", 3) % 3 == (
            "3 Buchungen abgesagt."
        )


def test_model_names_and_choices_are_english_under_en():
    with translation.override("en"):
        assert str(Practice._meta.verbose_name) == "practice"
        assert str(Practice._meta.verbose_name_plural) == "practices"
        assert str(Booking._meta.verbose_name_plural) == "bookings"
        assert str(VisitReason._meta.verbose_name) == "visit reason"
        assert str(AvailabilityRule._meta.verbose_name) == "availability rule"
        assert str(Slot._meta.verbose_name_plural) == "slots"
        assert str(InsuranceType.STATUTORY.label) == "Statutory (GKV)"
        assert str(InsuranceType.SELF_PAY.label) == "Self-pay"
        assert translation.ngettext("%d booking cancelled.", "%d bookings cancelled.", 3) % 3 == (
            "3 bookings cancelled."
        )


@pytest.mark.parametrize(
    "accept_language, language, expected, unexpected",
    [
        ("de", "de", ["Arzttermin finden", "Anmeldung für Praxen", "Zum Inhalt springen"], ["Practice login"]),
        ("de-DE,de;q=0.9,en;q=0.5", "de", ["Arzttermin finden"], ["Practice login"]),
        ("en", "en", ["Find a doctor", "Practice login", "Skip to content"], ["Arzttermin finden"]),
        ("en-GB,en;q=0.9", "en", ["Practice login"], ["Anmeldung für Praxen"]),
    ],
    ids=["de", "de-DE", "en", "en-GB"],
)
def test_the_home_page_follows_accept_language(db, client, accept_language, language, expected, unexpected):
    response = client.get("/", secure=True, headers={"accept-language": accept_language})

    assert response.status_code == 200
    assert response["Content-Language"] == language
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    for text in expected:
        assert text in body
    for text in unexpected:
        assert text not in body


def test_the_home_page_is_german_without_accept_language(db, client):
    response = client.get("/", secure=True)

    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert "Arzttermin finden" in response.content.decode()
