"""Chatbot actors: the practice bot on `default`, the help bot on `low`. Each takes a ticket id,
takes the redacted question from the cache, answers, and leaves the answer under the ticket.

Logs carry the bot, the practice's public id, the category, the source and the timings; never
the question or the answer.
"""

from __future__ import annotations

import logging
import time

import dramatiq
from django.conf import settings

from practices.selectors import practice_public_info
from terminfinder.queues import DEFAULT, LOW

from . import knowledge, pipeline, tickets

logger = logging.getLogger(__name__)

CHAT_OPTIONS = {
    "max_retries": settings.CHATBOT_MAX_RETRIES,
    "min_backoff": 500,
    "max_backoff": 5_000,
    # An answer later than the ticket lives is of no use to anyone.
    "max_age": settings.CHATBOT_RESULT_TTL * 1000,
    "time_limit": 60_000,
}


def _run(ticket: str, bot: str, answer_for) -> None:
    started = time.perf_counter()
    question = tickets.ticket_question(ticket)
    if question is None:  # answered already (a redelivery) or expired
        logger.info("chatbot.skip bot=%s reason=no-question", bot)
        return
    result = answer_for(question)
    tickets.ticket_finish(ticket, result.as_dict())
    logger.info(
        "chatbot.answer bot=%s practice=%s category=%s source=%s language=%s phrased=%s total_ms=%.1f steps=%s",
        bot,
        question.get("practice") or "-",
        result.category,
        result.source,
        result.language,
        result.phrased,
        (time.perf_counter() - started) * 1000,
        ",".join(f"{step}:{ms}" for step, ms in result.timings_ms.items()),
    )


def _practice(question: dict) -> pipeline.Result:
    practice = practice_public_info(question["practice"])
    language = question["language"]
    if practice is None:  # deactivated meanwhile
        return pipeline.Result(knowledge.unknown_answer(language), pipeline.UNKNOWN, "fixed:unknown", language)
    return pipeline.practice_answer(practice, question["text"], language, question.get("guard"))


def _help(question: dict) -> pipeline.Result:
    return pipeline.help_answer(question["text"], question["language"], question.get("guard"))


@dramatiq.actor(queue_name=DEFAULT, **CHAT_OPTIONS)
def answer_practice_question(ticket: str) -> None:
    _run(ticket, pipeline.PRACTICE_BOT, _practice)


@dramatiq.actor(queue_name=LOW, **CHAT_OPTIONS)
def answer_help_question(ticket: str) -> None:
    _run(ticket, pipeline.HELP_BOT, _help)
