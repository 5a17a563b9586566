"""PII redaction: what a patient types about themselves is replaced by a placeholder before the
message is queued, matched, phrased or answered.

Found and replaced, in this order (an earlier kind wins over a later one on the same text):
email addresses, IBANs (checksum), Krankenversichertennummern (check digit),
Sozialversicherungsnummern (check digit), dates with a year (dates of birth), phone numbers
(libphonenumber, German formats included), any other run of six or more digits, and names after
a cue ("ich heiße", "mein Name ist", "my name is", "Frau/Herr X", ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as stdnum_iban

EMAIL, IBAN, KVNR, SVNR, DATE, PHONE, NUMBER, NAME = (
    "email", "iban", "insurance-number", "social-security-number", "date", "phone", "number", "name",
)


@dataclass(frozen=True)
class Found:
    kind: str
    start: int
    end: int
    text: str


EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}", re.IGNORECASE)
KVNR_RE = re.compile(r"\b([A-Z])(\d{9})\b", re.IGNORECASE)
SVNR_RE = re.compile(r"\b(\d{2}) ?(\d{6}) ?([A-Z]) ?(\d{2})(\d)\b", re.IGNORECASE)
_MONTHS = (
    "januar|jänner|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|"
    "january|february|march|may|june|july|october|december|"
    r"jan|feb|mär|mar|apr|jun|jul|aug|sept?|okt|oct|nov|dez|dec"
)
DATE_RES = [
    re.compile(r"\b\d{1,2}\. ?\d{1,2}\. ?(?:19|20)?\d{2}\b"),
    re.compile(r"\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}/(?:19|20)?\d{2}\b"),
    re.compile(rf"\b\d{{1,2}}(?:\.|st|nd|rd|th)? ?(?:of )?(?:{_MONTHS})\.?,? (?:19|20)\d{{2}}\b", re.IGNORECASE),
    re.compile(rf"\b(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}\b", re.IGNORECASE),
]
DIGIT_RUN_RE = re.compile(r"(?<!\d)\d(?:[ \-/.]?\d){5,}")
_NAME_WORD = r"[A-ZÄÖÜ][\w'\-]+"
NAME_CUES = [
    # An explicit cue: the next word is a name whatever its case, plus up to two capitalised ones.
    re.compile(
        r"(?:ich hei(?:ß|ss)e|mein name ist|mein name lautet|my name is|my name's|i am called|"
        r"ich bin (?:der|die)|name:)\s+(?:(?:dr|prof)\.?\s+)?([\w'\-]+(?:\s+" + _NAME_WORD + r"){0,2})",
        re.IGNORECASE,
    ),
    # A form of address: one or two capitalised words.
    re.compile(
        r"\b(?:[Ff]rau|[Hh]err|[Hh]rn?\.|[Ff]r\.|Mr\.?|Mrs\.?|Ms\.?|Miss)\s+(?:(?:Dr|Prof)\.?\s+)?("
        + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r")?)"
    ),
]


def kvnr_is_valid(value: str) -> bool:
    """Krankenversichertennummer (unveränderbarer Teil, § 290 SGB V): a letter and nine digits,
    the last a check digit. The letter becomes its two-digit position in the alphabet (A=01);
    the first ten of the resulting eleven digits are weighted 1-2-1-2..., the digit sums of the
    products added, and the sum modulo 10 is the check digit."""
    value = value.upper()
    if not re.fullmatch(r"[A-Z]\d{9}", value):
        return False
    digits = f"{ord(value[0]) - 64:02d}" + value[1:9]
    total = 0
    for index, digit in enumerate(digits):
        product = int(digit) * (1 if index % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10 == int(value[9])


def svnr_is_valid(value: str) -> bool:
    """Sozialversicherungsnummer (Rentenversicherungsnummer, § 147 SGB VI): area (2 digits),
    birth date DDMMYY, the birth name's initial, a serial (2 digits) and a check digit. The
    letter becomes its two-digit position (A=01); the twelve digits are weighted
    2-1-2-5-7-1-2-1-2-1-2-1, the digit sums of the products added, modulo 10."""
    value = re.sub(r"\s", "", value).upper()
    if not re.fullmatch(r"\d{8}[A-Z]\d{3}", value):
        return False
    digits = value[:8] + f"{ord(value[8]) - 64:02d}" + value[9:11]
    total = 0
    for digit, weight in zip(digits, (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)):
        product = int(digit) * weight
        total += product // 10 + product % 10
    return total % 10 == int(value[11])


def _ibans(text: str):
    for match in IBAN_RE.finditer(text):
        candidate = match.group(0)
        # The pattern may run on into following words: take the longest prefix that checks out.
        for end in range(len(candidate), 14, -1):
            prefix = candidate[:end].rstrip()
            if stdnum_iban.is_valid(prefix.replace(" ", "").upper()):
                yield IBAN, match.start(), match.start() + len(prefix)
                break


def _phones(text: str):
    for match in phonenumbers.PhoneNumberMatcher(text, "DE", leniency=phonenumbers.Leniency.VALID):
        yield PHONE, match.start, match.end


def find_pii(text: str) -> list[Found]:
    """Every piece of personal data found, non-overlapping, in text order."""
    candidates = []
    candidates += [(EMAIL, m.start(), m.end()) for m in EMAIL_RE.finditer(text)]
    candidates += list(_ibans(text))
    candidates += [(KVNR, m.start(), m.end()) for m in KVNR_RE.finditer(text) if kvnr_is_valid(m.group(0))]
    candidates += [(SVNR, m.start(), m.end()) for m in SVNR_RE.finditer(text) if svnr_is_valid(m.group(0))]
    for pattern in DATE_RES:
        candidates += [(DATE, m.start(), m.end()) for m in pattern.finditer(text)]
    candidates += list(_phones(text))
    candidates += [(NUMBER, m.start(), m.end()) for m in DIGIT_RUN_RE.finditer(text)]
    for pattern in NAME_CUES:
        candidates += [(NAME, m.start(1), m.end(1)) for m in pattern.finditer(text)]

    taken: list[Found] = []
    for kind, start, end in candidates:  # earlier kinds first: they win an overlap
        if any(start < f.end and f.start < end for f in taken):
            continue
        taken.append(Found(kind, start, end, text[start:end]))
    return sorted(taken, key=lambda f: f.start)


def redact(text: str) -> tuple[str, list[str]]:
    """The text with each piece of personal data replaced by `[kind]`, and the kinds found."""
    found = find_pii(text)
    out, last = [], 0
    for item in found:
        out.append(text[last:item.start])
        out.append(f"[{item.kind}]")
        last = item.end
    out.append(text[last:])
    return "".join(out), [item.kind for item in found]


PLACEHOLDER_RE = re.compile(r"\[(?:" + "|".join(map(re.escape, (EMAIL, IBAN, KVNR, SVNR, DATE, PHONE, NUMBER, NAME))) + r")\]")


def without_placeholders(text: str) -> str:
    """For matching: "[phone]" must not make a question about the practice's phone number."""
    return PLACEHOLDER_RE.sub(" ", text)


NUMBER_RUN_RE = re.compile(r"\+?\d[\d \-/().]*\d")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def pii_not_in(answer: str, allowed: str) -> list[Found]:
    """Personal data in an answer that the allowed text (the practice's own public data, the
    retrieved context) does not contain: what a model may have made up or echoed."""
    allowed_folded = allowed.casefold()
    # Each number of the allowed text on its own: digits glued across two unrelated numbers
    # (postal code and phone) must not vouch for a made-up one.
    allowed_numbers = [digits(run) for run in NUMBER_RUN_RE.findall(allowed)]
    leaked = []
    for item in find_pii(answer):
        number = digits(item.text)
        if number and len(number) >= 5 and any(number in known for known in allowed_numbers):
            continue
        if item.text.casefold() in allowed_folded:
            continue
        leaked.append(item)
    return leaked
