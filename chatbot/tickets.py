"""Tickets: where a queued question waits for its worker and its answer waits to be polled.

Both live in the cache (Redis in production) for CHATBOT_RESULT_TTL seconds and nowhere else.
The ticket is a random, unguessable token; the Dramatiq message carries only the ticket, so the
(redacted) question is never in the queue or its dead letters, and it is deleted as soon as a
worker has answered it.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.cache import caches

PENDING, DONE = "pending", "done"
STATUS_CHOICES = [(PENDING, PENDING), (DONE, DONE)]
TICKET_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _cache():
    # Not the fail-open default cache: a lost ticket must surface as an error (503), not vanish.
    return caches["tickets"]


def _ttl() -> int:
    return settings.CHATBOT_RESULT_TTL


def _question_key(ticket: str) -> str:
    return f"chatbot:question:{ticket}"


def _result_key(ticket: str) -> str:
    return f"chatbot:result:{ticket}"


def ticket_open(
    *, bot: str, text: str, language: str, practice_public_id: str | None = None, guard: str | None = None
) -> str:
    """`text` is the redacted question; `guard` the category the request's checks found."""
    ticket = secrets.token_urlsafe(24)
    _cache().set_many(
        {
            _question_key(ticket): {
                "bot": bot, "text": text, "language": language, "practice": practice_public_id, "guard": guard,
            },
            _result_key(ticket): {"status": PENDING},
        },
        timeout=_ttl(),
    )
    return ticket


def ticket_question(ticket: str) -> dict | None:
    """The queued question (None once answered or expired)."""
    return _cache().get(_question_key(ticket))


def ticket_finish(ticket: str, result: dict) -> None:
    """Store the answer, then forget the question: a worker that dies in between leaves the
    question for the redelivered message, which answers it again (the same way)."""
    _cache().set(_result_key(ticket), {"status": DONE, **result}, timeout=_ttl())
    _cache().delete(_question_key(ticket))


def ticket_result(ticket: str) -> dict | None:
    """{"status": "pending"} or {"status": "done", ...}; None for an unknown or expired ticket."""
    if not TICKET_RE.fullmatch(ticket or ""):
        return None
    return _cache().get(_result_key(ticket))
