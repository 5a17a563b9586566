"""The chatbot pipeline, one small step after the other:

    length cap → redaction                      (in the request, before anything is queued)
    emergency → block/scope → retrieval → FAQ answer or model phrasing → answer check
                                                (in the worker, on the redacted text)

Redaction runs in the request so that the raw message never reaches Redis (queue, dead letters,
cache). The emergency and scope checks run there too, on the raw text, in the issue's order
(a name cue must not swallow "Atemnot" in "Frau Schmidt Atemnot"); only the category they found
travels with the redacted text, and the worker checks the redacted text again.

Each result carries the answer, its category, the source (an FAQ entry id, a structured field
or a fixed answer), the language and the timings of the steps — never the question.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from . import guard, knowledge, phrasing
from .redaction import PLACEHOLDER_RE, pii_not_in, redact, without_placeholders
from .retrieval import best_match, detect_language, in_domain, is_greeting, is_thanks

ANSWERED = "answered"
UNKNOWN = "unknown"
GREETING = "greeting"
PRACTICE_BOT, HELP_BOT = "practice", "help"


@dataclass
class Prepared:
    """What the request keeps of a message: the redacted text, the kinds of data removed."""

    text: str
    language: str
    redacted: list[str]
    guard: str | None = None  # the category the checks on the raw text found, if any


@dataclass
class Result:
    answer: str
    category: str
    source: str
    language: str
    phrased: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def prepare(message: str, *, language_hint: str | None = None) -> Prepared:
    """The synchronous part (the API's serializer has capped the length): the emergency and
    scope checks on the raw text, then redaction."""
    message = message.strip()
    found = guard.emergency_kind(message) or guard.blocked_kind(message)
    text, kinds = redact(message)
    return Prepared(text=text, language=detect_language(text, language_hint), redacted=kinds, guard=found)


class _Clock:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round((now - self._last) * 1000, 2)
        self._last = now


def _guarded(text: str, language: str, clock: _Clock, found: str | None) -> Result | None:
    """The fixed answers: emergency (first, it outranks everything) and the refusals. `found`
    is what the same checks found on the raw text in the request."""
    kind = found if found in (guard.EMERGENCY, guard.CRISIS) else guard.emergency_kind(text)
    clock.lap("emergency")
    if kind:
        answer = knowledge.emergency_answer(language, crisis=kind == guard.CRISIS)
        return Result(answer, kind, f"fixed:{kind}", language)
    kind = found or guard.blocked_kind(text)
    clock.lap("guard")
    if kind:
        return Result(knowledge.refusal_answer(language), kind, f"fixed:{kind}", language)
    return None


def answer(
    text: str, *, language: str, documents: list, allowed: str, unknown: str, greeting: str, found: str | None = None
) -> Result:
    """Answer an already redacted question from `documents`. `allowed` is the public text an
    answer may quote personal-looking data from (the practice's own phone number, say);
    `unknown` the fixed "I don't know" answer, `greeting` the reply to a mere "Hallo"/"Danke"."""
    clock = _Clock()
    fixed = _guarded(text, language, clock, found)
    if fixed:
        fixed.timings_ms = clock.timings
        return fixed
    if is_greeting(without_placeholders(text)):
        if is_thanks(without_placeholders(text)):
            greeting = knowledge.greeting_answer(language, thanks=True)
        return Result(greeting, GREETING, f"fixed:{GREETING}", language, timings_ms=clock.timings)
    match = best_match(without_placeholders(text), documents, language)
    clock.lap("retrieval")
    if match is None:
        if not in_domain(without_placeholders(text)):
            # Nothing matched and nothing in it is about a practice or this site: off-topic.
            refusal = knowledge.refusal_answer(language)
            return Result(refusal, guard.OFF_TOPIC, f"fixed:{guard.OFF_TOPIC}", language, timings_ms=clock.timings)
        return Result(unknown, UNKNOWN, "fixed:unknown", language, timings_ms=clock.timings)
    source_text = match.document.answer
    result = Result(source_text, ANSWERED, match.document.source, language)
    phrased = phrasing.phrase(question=text, context=source_text, language=language)
    clock.lap("phrasing")
    context = f"{source_text}\n{allowed}"
    if phrased and _acceptable(phrased, context):
        result.answer, result.phrased = phrased, True
    elif not _acceptable(source_text, context):
        result = Result(unknown, UNKNOWN, "fixed:unknown", language)
    clock.lap("check")
    result.timings_ms = clock.timings
    return result


def _acceptable(candidate: str, context: str) -> bool:
    """The answer check: nothing medical, no trace of the instructions, no placeholder of the
    redaction ("Hallo [name]") and no personal data the practice's own public text lacks."""
    return (
        not guard.answer_is_out_of_scope(candidate)
        and not PLACEHOLDER_RE.search(candidate)
        and not pii_not_in(candidate, context)
    )


def practice_answer(practice, text: str, language: str, found: str | None = None) -> Result:
    documents = knowledge.practice_documents(practice, language)
    allowed = "\n".join(
        [practice.name, practice.street, practice.postal_code, practice.city, practice.phone, practice.email]
        + [d.answer for d in documents]
    )
    unknown = knowledge.unknown_answer(language, practice.phone)
    greeting = knowledge.greeting_answer(language)
    return answer(
        text, language=language, documents=documents, allowed=allowed, unknown=unknown, greeting=greeting, found=found
    )


def help_answer(text: str, language: str, found: str | None = None) -> Result:
    documents = knowledge.help_documents(language)
    unknown = knowledge.help_unknown_answer(language)
    greeting = knowledge.greeting_answer(language, help_bot=True)
    return answer(
        text, language=language, documents=documents, allowed="", unknown=unknown, greeting=greeting, found=found
    )
