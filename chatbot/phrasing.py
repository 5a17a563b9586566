"""Optional phrasing by an OpenAI model, only when OPENAI_API_KEY is set.

The model sees the redacted question and the retrieved text, nothing else: no name, no id, no
history. `store=False` asks OpenAI not to keep the response; OPENAI_BASE_URL points at the EU
data-residency endpoint (https://eu.api.openai.com/v1) or any compatible server. A short timeout
and at most one retry: on any failure the caller answers with the retrieved text itself.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

INSTRUCTIONS = {
    "de": (
        "Du formulierst Antworten für den Chat einer Arztpraxis. Antworte auf Deutsch (Sie-Form), kurz und "
        "freundlich, ausschließlich mit den Informationen aus dem Abschnitt INFORMATION. Gib keine medizinischen "
        "Ratschläge, keine Diagnosen und keine Medikamente an. Steht die Antwort nicht in INFORMATION, antworte "
        "genau mit: UNBEKANNT"
    ),
    "en": (
        "You phrase answers for a medical practice's chat. Answer in English, briefly and politely, using only the "
        "facts in the INFORMATION section. Give no medical advice, no diagnosis and no medication. If the answer "
        "is not in INFORMATION, answer exactly: UNKNOWN"
    ),
}
UNKNOWN_MARKERS = ("UNBEKANNT", "UNKNOWN")


def is_enabled() -> bool:
    return bool(settings.OPENAI_API_KEY)


def build_input(question: str, context: str) -> str:
    return f"INFORMATION:\n{context}\n\nQUESTION:\n{question}"


@functools.lru_cache(maxsize=4)
def _client(api_key: str, base_url: str | None, timeout: float):
    """One client (and connection pool) per worker process and configuration, not per question."""
    # Imported here: without a key the product never loads the SDK.
    import openai

    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1)


def phrase(*, question: str, context: str, language: str) -> str | None:
    """The model's answer, or None (not configured, failed, timed out, empty or "unknown")."""
    if not is_enabled():
        return None
    client = _client(settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL or None, settings.CHATBOT_OPENAI_TIMEOUT)
    try:
        response = client.responses.create(
            model=settings.OPENAI_MODEL,
            instructions=INSTRUCTIONS.get(language, INSTRUCTIONS["de"]),
            input=build_input(question, context),
            store=False,
            max_output_tokens=300,
        )
        text = (response.output_text or "").strip()
    except Exception as error:  # noqa: BLE001 - any failure means: answer with the FAQ text
        # The class name only: an error message may quote the request.
        logger.warning("chatbot.phrasing failed error=%s", type(error).__name__)
        return None
    if not text or any(marker in text for marker in UNKNOWN_MARKERS):
        return None
    return text
