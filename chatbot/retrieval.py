"""Finding the answer: topic and keyword scoring over a practice's FAQ entries and its
structured data (or the help bot's fixed entries), in German and English.

Deterministic on purpose: the same question always finds the same entry, and a test can say
which. A question is folded (case, umlauts, ß), split into words, and matched against topic word
stems; a document scores the weight the question gives its main topic, plus a bonus for every
word it shares with the entry's keywords (heavier) or question. Staff steer the matching through
an entry's keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import spell_out

FAQ, PRACTICE, HELP = "faq", "practice", "help"
MIN_SCORE = 2.0

def fold(text: str) -> str:
    """Folded (text.spell_out), everything but letters and digits a single space."""
    return " " + re.sub(r"[^a-z0-9]+", " ", spell_out(text)).strip() + " "


def words(text: str) -> list[str]:
    return fold(text).split()


# Topic → (stem, weight). A stem matches a word it starts; "=w" only the word w itself; "a b"
# (with a space) the phrase; "a&b" a word starting with a and the word b anywhere ("sage ... ab").
TOPICS: dict[str, list[tuple[str, float]]] = {
    "address": [
        ("adress", 3), ("anschrift", 3), ("anfahrt", 3), ("anreise", 3), ("wegbeschreib", 3), ("hinkomm", 3),
        ("strasse", 1), ("ubahn", 2), ("u bahn", 2), ("sbahn", 2), ("s bahn", 2), ("=bus", 2), ("haltestelle", 2),
        ("oeffentlich", 1), ("liegt", 1), ("finde", 1), ("=wo", 2), ("address", 3), ("direction", 3),
        ("get there", 3), ("get to", 3), ("located", 3), ("location", 3), ("find you", 2), ("where", 2), ("public transport", 2),
        ("train", 2), ("subway", 2), ("street", 1),
    ],
    "hours": [
        ("oeffnungszeit", 4), ("geoeffnet", 3), ("offen", 2), ("oeffne", 3), ("geschlossen", 2), ("schliess", 2),
        # "Haben Sie am Samstag auf?", "Hat die Praxis heute auf?"
        ("hab&auf", 3), ("hat&auf", 3), ("aufhab", 3),
        ("sprechzeit", 4), ("uhrzeit", 1), ("wann", 1), ("heute", 1), ("montag", 1), ("dienstag", 1), ("mittwoch", 1),
        ("donnerstag", 1), ("freitag", 1), ("samstag", 1), ("sonntag", 1), ("wochenende", 1), ("hours", 3),
        ("open", 3), ("close", 2), ("closed", 2), ("when", 1), ("today", 1), ("monday", 1), ("tuesday", 1),
        ("wednesday", 1), ("thursday", 1), ("friday", 1), ("saturday", 1), ("sunday", 1), ("weekend", 1),
    ],
    "insurance": [
        ("versicher", 3), ("kasse", 3), ("krankenkass", 3), ("gesetzlich", 3), ("privat", 3), ("selbstzahl", 3),
        ("kassenpatient", 3), ("privatpatient", 3), ("gkv", 3), ("pkv", 3), ("aok", 3), ("barmer", 3), ("insur", 3),
        ("insured", 3), ("statutory", 3), ("private", 3), ("self pay", 3), ("selfpay", 3), ("public health", 2),
    ],
    "parking": [
        ("park", 4), ("auto", 2), ("tiefgarage", 4), ("garage", 3), ("stellplatz", 4), ("=car", 2), ("drive", 1),
        ("fahrrad", 2), ("bike", 2), ("bicycle", 2),
    ],
    "bring": [
        ("mitbring", 4), ("mitnehm", 3), ("dabei haben", 3), ("bring", 4), ("unterlagen", 3), ("dokument", 2),
        ("document", 2), ("versichertenkarte", 3), ("gesundheitskarte", 3), ("ueberweisung", 3), ("referral", 3),
        ("card", 2), ("karte", 2), ("impfpass", 3), ("befund", 2),
    ],
    "booking": [
        ("buch", 3), ("vereinbar", 3), ("reservier", 3), ("termin", 1), ("freie", 1), ("book", 3), ("appointment", 1),
        ("schedule", 2), ("make an", 1), ("get an", 1), ("slot", 1), ("new patient", 2), ("neue patient", 2),
        ("neupatient", 2),
    ],
    "cancel": [
        ("absag", 5), ("abzusag", 5), ("sage&ab", 5), ("storn", 5), ("verschieb", 5), ("umbuch", 5), ("cancel", 5),
        ("reschedul", 5), ("can t come", 5), ("cannot come", 5), ("nicht kommen", 4), ("move my", 3),
    ],
    "contact": [
        ("telefon", 3), ("anruf", 3), ("anrufen", 3), ("erreich", 3), ("kontakt", 3), ("e mail", 2), ("email", 2),
        ("phone", 3), ("call", 2), ("contact", 3), ("reach", 2), ("nummer", 1), ("number", 1),
    ],
    "alerts": [
        ("benachrichtig", 4), ("alarm", 3), ("alert", 4), ("notif", 4), ("frei wird", 3), ("warteliste", 3),
        ("freed", 3), ("frees up", 3), ("waiting list", 3), ("waitlist", 3), ("becomes free", 3), ("informier", 2),
    ],
    "account": [
        ("konto", 3), ("account", 3), ("registrier", 3), ("anmeld", 2), ("einlogg", 3), ("login", 3), ("log in", 3),
        ("passwort", 3), ("password", 3), ("sign up", 3), ("signup", 3), ("profil", 2), ("profile", 2), ("zugang", 2),
    ],
    "export": [
        ("export", 5), ("herunterlad", 4), ("download", 4), ("kopie", 3), ("copy", 3), ("auskunft", 3),
        ("meine daten", 1), ("my data", 1), ("gespeichert", 2), ("stored", 2),
    ],
    "deletion": [
        ("loesch", 6), ("delete", 6), ("entfern", 5), ("remove", 5), ("erase", 6), ("vergessen werden", 6),
        ("close my account", 6), ("konto schliessen", 6),
    ],
}
# Words that say "this is about a practice or this site" without naming a topic: such a question
# is in scope even when nothing answers it (then "I don't know, please call").
DOMAIN = (
    "praxis", "practice", "arzt", "aerzt", "doctor", "termin", "appointment", "terminfinder", "sprechstunde",
    "rezept", "prescription", "behinderten", "rollstuhl", "wheelchair", "aufzug", "elevator", "lift", "barriere",
    "accessible", "warte", "waiting", "wait", "kind", "child", "hund", "dog", "wlan", "wifi", "krankmeld",
    "krankschreib", "arbeitsunfaehig", "attest", "bescheinigung", "sick note", "screening", "vorsorge", "check up",
    "untersuchung", "impf", "vaccin", "kosten", "kostet", "cost", "price", "preis", "zahn", "dental", "dentist",
    "labor", "blutabnahme", "blood test", "ergebnis", "result", "befund", "patient", "feiertag", "holiday", "urlaub",
)

STOPWORDS_DE = {
    "ich", "sie", "die", "der", "das", "und", "ist", "wie", "wo", "wann", "was", "welche", "welcher", "kann",
    "muss", "mein", "meine", "meinen", "einen", "ein", "eine", "haben", "habe", "bitte", "nicht", "mit", "fuer",
    "bei", "ihre", "ihr", "ihnen", "zu", "zur", "zum", "im", "in", "an", "am", "auf", "es", "man", "gibt", "den",
    "dem", "des", "wir", "uns", "sind", "bin", "hallo", "danke", "oder", "auch", "noch", "schon", "mir", "mich",
    "da", "dort", "hier", "wer", "warum", "wieso", "sich", "nach", "von", "vor", "aus", "ueber", "darf", "soll",
}
STOPWORDS_EN = {
    "i", "you", "the", "is", "are", "how", "where", "when", "what", "which", "can", "do", "does", "my", "a", "an",
    "have", "has", "please", "to", "of", "with", "for", "it", "in", "on", "at", "there", "your", "me", "we",
    "our", "be", "hello", "hi", "thanks", "thank", "or", "and", "should", "need", "would", "could", "who",
    "why", "from", "about", "this", "that", "any", "will", "get", "s", "t",
}
_GERMAN_CHARS = re.compile(r"[äöüß]", re.IGNORECASE)


def detect_language(text: str, hint: str | None = None) -> str:
    """"de" or "en" by counting each language's function words (umlauts count for German);
    a tie follows the page language (hint), else German."""
    tokens = words(text)
    german = sum(t in STOPWORDS_DE for t in tokens) + 2 * len(_GERMAN_CHARS.findall(text))
    english = sum(t in STOPWORDS_EN for t in tokens)
    if german != english:
        return "de" if german > english else "en"
    return hint if hint in ("de", "en") else "de"


def _matches(stem: str, folded: str, tokens: list[str]) -> bool:
    if stem.startswith("="):
        return stem[1:] in tokens
    if "&" in stem:
        first, second = stem.split("&")
        return any(t.startswith(first) for t in tokens) and second in tokens
    if " " in stem:
        return f" {stem}" in folded
    return any(t.startswith(stem) for t in tokens)


def topic_weights(text: str) -> dict[str, float]:
    folded, tokens = fold(text), words(text)
    weights = {}
    for topic, stems in TOPICS.items():
        total = sum(weight for stem, weight in stems if _matches(stem, folded, tokens))
        if total:
            weights[topic] = total
    return weights


# "Kann ich mein Kind mitbringen?" asks about a companion, not about documents to bring: the
# "bring" entry would answer with the insurance card. Whole words ("Freundliche Grüße" is no
# friend); "Frau"/"Herr" are name cues, not companions.
COMPANIONS = frozenset({
    "kind", "kinder", "kindern", "sohn", "tochter", "baby", "begleitung", "begleitperson", "hund", "hunde",
    "partner", "partnerin", "ehemann", "ehefrau", "mutter", "vater", "eltern", "freund", "freundin",
    "child", "children", "kid", "kids", "son", "daughter", "dog", "dogs", "husband", "wife", "mother",
    "father", "parent", "parents", "companion", "friend",
})
BRING_VERBS = ("mitbring", "bring", "mitnehm")


def asks_about_companion(tokens: set[str]) -> bool:
    return bool(tokens & COMPANIONS) and any(t.startswith(BRING_VERBS) for t in tokens)


GREETING_WORDS = {
    "hallo", "hi", "hey", "moin", "servus", "gruess", "gruezi", "gott", "guten", "tag", "morgen", "abend",
    "danke", "dankeschoen", "vielen", "dank", "schoen", "super", "toll", "prima", "ok", "okay", "tschuess",
    "ciao", "wiedersehen", "auf", "hello", "good", "morning", "afternoon", "evening", "thanks", "thank", "you",
    "great", "bye", "goodbye", "cheers", "much", "very", "so", "a", "lot",
    # Introductions: "Hallo, ich heiße [Name]" arrives with the name already redacted.
    "ich", "heisse", "bin", "mein", "name", "ist", "hier", "my", "is", "i", "am", "m", "this",
}


def is_greeting(text: str) -> bool:
    """Only a greeting or a thank-you ("Hallo!", "Vielen Dank", "thanks a lot"): no question in it."""
    tokens = words(text)
    return bool(tokens) and all(t in GREETING_WORDS for t in tokens)


THANKS_WORDS = {"danke", "dank", "dankeschoen", "thanks", "thank", "cheers"}


def is_thanks(text: str) -> bool:
    return is_greeting(text) and bool(THANKS_WORDS & set(words(text)))


def in_domain(text: str) -> bool:
    folded, tokens = fold(text), words(text)
    return bool(topic_weights(text)) or any(_matches(d, folded, tokens) for d in DOMAIN)


@dataclass(frozen=True)
class Document:
    source: str  # "faq:<id>", "practice:<topic>", "help:<topic>"
    kind: str
    language: str
    answer: str
    topic: str | None  # the main topic
    keywords: frozenset[str] = field(default_factory=frozenset)
    question_words: frozenset[str] = field(default_factory=frozenset)
    position: int = 0


def main_topic(text: str) -> str | None:
    weights = topic_weights(text)
    return max(weights, key=lambda t: (weights[t], -list(TOPICS).index(t))) if weights else None


def faq_document(*, entry_id: int, language: str, question: str, answer: str, keywords: str, position: int) -> Document:
    keyword_words = frozenset(w for k in keywords.split(",") for w in words(k))
    content = frozenset(w for w in words(question) if w not in STOPWORDS_DE | STOPWORDS_EN)
    return Document(
        source=f"faq:{entry_id}",
        kind=FAQ,
        language=language,
        answer=answer,
        # The keywords say what staff meant; the question text decides when they don't.
        topic=main_topic(keywords) or main_topic(question),
        keywords=keyword_words,
        question_words=content,
        position=position,
    )


def score(document: Document, weights: dict[str, float], tokens: set[str]) -> float:
    total = weights.get(document.topic, 0.0) if document.topic else 0.0
    content = tokens - STOPWORDS_DE - STOPWORDS_EN
    total += 1.5 * len(content & document.keywords) + 0.5 * len(content & document.question_words)
    return total


@dataclass(frozen=True)
class Match:
    document: Document
    score: float


def best_match(question: str, documents: list[Document], language: str) -> Match | None:
    """The best document at or above MIN_SCORE: the question's language first (FAQ before the
    structured data on a tie), then an FAQ entry in the other language; None when nothing is
    confident enough."""
    weights = topic_weights(question)
    tokens = set(words(question))
    if asks_about_companion(tokens):
        documents = [d for d in documents if d.topic != "bring"]

    def ranked(candidates):
        scored = [Match(d, score(d, weights, tokens)) for d in candidates]
        scored = [m for m in scored if m.score >= MIN_SCORE]
        kind_rank = {FAQ: 0, HELP: 0, PRACTICE: 1}
        scored.sort(key=lambda m: (-m.score, kind_rank[m.document.kind], m.document.position, m.document.source))
        return scored

    same = ranked([d for d in documents if d.language in (language, "")])
    if same:
        return same[0]
    other = ranked([d for d in documents if d.language not in (language, "")])
    return other[0] if other else None
