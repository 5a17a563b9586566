"""The chatbot, case by case: each message of the table (tests/chatbot_cases.py) goes through the
API, its queued message is run by the actor it names, and the ticket is polled until the answer.

Here the actor runs in this process (so the table also runs on SQLite); test_chatbot_privacy.py
runs the same table through real worker processes.
"""

from __future__ import annotations

import io
import time

import dramatiq
import pytest
from rest_framework.throttling import ScopedRateThrottle

from chatbot import knowledge, tickets
from chatbot.redaction import kvnr_is_valid, pii_not_in, redact, svnr_is_valid
from tests.api_client import api_client
from tests.chatbot_cases import CASES, H, ask_url, expected_source, make_chat_practice
from tests.flow import queued_messages


@pytest.fixture
def chat(db):
    return make_chat_practice()


@pytest.fixture(autouse=True)
def generous_throttle(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"chat": "1000/minute", "chat_poll": "10000/minute"})


def run_queued(queue: str) -> list[dict]:
    """Run every message waiting in `queue` with its actor, here; return the messages."""
    messages = queued_messages(queue)
    broker = dramatiq.get_broker()
    for message in messages:
        broker.get_actor(message["actor_name"]).fn(*message["args"], **message["kwargs"])
    broker.client.delete(f"{broker.namespace}:{queue}", f"{broker.namespace}:{queue}.msgs")
    return messages


def expected_answer(case, chat, language: str) -> str:
    kind = case.source.split(":", 1)[1]
    if case.source.startswith("faq:"):
        return chat.faq[kind].answer
    if case.source in ("fixed:emergency", "fixed:crisis"):
        return knowledge.emergency_answer(language, crisis=kind == "crisis")
    if case.source == "fixed:greeting":
        thanks = any(word in case.message.casefold() for word in ("dank", "thank"))
        return knowledge.greeting_answer(language, help_bot=case.bot == H, thanks=thanks)
    if case.source == "fixed:unknown":
        return knowledge.unknown_answer(language, chat.practice.phone)
    if case.source.startswith("fixed:"):
        return knowledge.refusal_answer(language)
    if case.source.startswith("help:"):
        return next(d.answer for d in knowledge.help_documents(language) if d.source == case.source)
    return next(d.answer for d in knowledge.practice_documents(chat.practice, language) if d.source == case.source)


# Words that show the answer is in the expected language, for the structured and fixed answers.
LANGUAGE_MARKERS = {"de": ("Sie", "Bitte", "bitte", "Öffnungszeiten", "Praxis"), "en": ("you", "You", "please", "Please", "practice", "Opening hours")}


def test_the_table_has_at_least_60_cases_in_german_and_english():
    assert len(CASES) >= 60
    assert {c.language for c in CASES} == {"de", "en"}
    assert {c.category for c in CASES} >= {"answered", "medical", "off_topic", "injection", "emergency", "crisis", "unknown"}


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c.bot}-{c.category}" for i, c in enumerate(CASES)])
def test_each_case_gets_its_category_source_and_answer_in_its_language(chat, case):
    client = api_client()

    asked = client.post(ask_url(case, chat), {"message": case.message}, format="json")

    assert asked.status_code == 202, asked.content
    ticket = asked.json()["ticket"]
    assert asked.json()["poll_url"] == f"/api/chat/tickets/{ticket}/"
    assert client.get(asked.json()["poll_url"]).json() == {"status": "pending"}
    if case.pii:
        assert asked.json()["redacted"], "the message's personal data was found"
    queue = "low" if case.bot == H else "default"
    [message] = run_queued(queue)
    assert message["args"] == [ticket], "the queue carries the ticket only, never the text"

    polled = client.get(f"/api/chat/tickets/{ticket}/")
    body = polled.json()
    assert polled.status_code == 200
    assert (body["status"], body["category"], body["language"]) == ("done", case.category, case.language), case.message
    assert tickets.ticket_result(ticket)["source"] == expected_source(case, chat), case.message
    assert body["source"] == ("faq" if case.source.startswith("faq:") else case.source)
    assert body["answer"] == expected_answer(case, chat, case.language)
    assert body["phrased"] is False
    if not case.source.startswith("faq:"):  # an FAQ entry's text is the staff's own
        assert any(marker in body["answer"] for marker in LANGUAGE_MARKERS[case.language]), body["answer"]
    assert not any(token in body["answer"] for token in case.pii)
    if case.category in ("emergency", "crisis"):
        assert "112" in body["answer"] and "116117" in body["answer"]
    if case.category == "crisis":
        assert "0800 111 0 111" in body["answer"]
    if case.category == "unknown":
        assert chat.practice.phone in body["answer"]


def test_a_fixed_answer_follows_the_question_language_not_the_page_language(chat):
    client = api_client()
    asked = client.post(
        f"/api/chat/{chat.practice.public_id}/", {"message": "I have chest pain", "language": "de"}, format="json"
    )
    run_queued("default")
    body = client.get(asked.json()["poll_url"]).json()
    assert body["answer"] == knowledge.emergency_answer("en")
    assert body["answer"] != knowledge.emergency_answer("de")


def test_it_rejects_a_message_over_the_length_cap_with_a_human_message(chat, settings):
    settings.CHATBOT_MAX_MESSAGE_LENGTH = 50
    response = api_client().post(f"/api/chat/{chat.practice.public_id}/", {"message": "x" * 51}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"]["message"] == ["Bitte stellen Sie Ihre Frage in höchstens 50 Zeichen."]
    assert queued_messages("default") == []


def test_it_rejects_an_empty_message(chat):
    response = api_client().post("/api/chat/help/", {"message": "   "}, format="json")
    assert response.status_code == 400 and "message" in response.json()["error"]["fields"]


def test_an_unknown_or_expired_ticket_answers_404_in_the_error_shape(chat, settings):
    response = api_client().get("/api/chat/tickets/not-a-ticket/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_or_inactive_practice_answers_404(chat):
    chat.practice.is_active = False
    chat.practice.save()
    response = api_client().post(f"/api/chat/{chat.practice.public_id}/", {"message": "Wo?"}, format="json")
    assert response.status_code == 404 and set(response.json()) == {"error"}
    assert queued_messages("default") == []


def test_it_throttles_anonymous_questions(chat, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"chat": "2/minute", "chat_poll": "100/minute"})
    client = api_client()
    statuses = [client.post("/api/chat/help/", {"message": "Wie buche ich?"}, format="json").status_code for _ in range(3)]
    assert statuses == [202, 202, 429]


def test_the_chat_endpoints_are_in_the_openapi_schema():
    schema = api_client().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, method in (("/api/chat/{public_id}/", "post"), ("/api/chat/help/", "post"), ("/api/chat/tickets/{ticket}/", "get")):
        operation = schema["paths"][path][method]
        assert "404" in operation["responses"] or method == "post"
        assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "202" in schema["paths"]["/api/chat/help/"]["post"]["responses"]


def test_the_answer_lives_only_for_the_ttl(chat, settings):
    settings.CHATBOT_RESULT_TTL = 1
    client = api_client()
    asked = client.post("/api/chat/help/", {"message": "Wie lösche ich mein Konto?"}, format="json")
    run_queued("low")
    assert client.get(asked.json()["poll_url"]).json()["status"] == "done"
    time.sleep(1.3)
    assert client.get(asked.json()["poll_url"]).status_code == 404


# --- Redaction, unit by unit ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("schreiben Sie an max.muster@example.de", ["email"]),
        ("Tel. 030 12345678 oder 0151/23456789", ["phone", "phone"]),
        ("+44 20 7946 0958 please", ["phone"]),
        ("geboren am 5. Juni 1987", ["date"]),
        ("born 1987-06-05", ["date"]),
        ("IBAN DE89370400440532013000", ["iban"]),
        ("KVNR A123456780", ["insurance-number"]),
        ("SV 15070649C103", ["social-security-number"]),
        ("Kundennummer 4711 0815 42", ["number"]),
        ("Ich heisse Lena", ["name"]),
        ("Herr Dr. Schmidt-Weber", ["name"]),
        ("Wo ist die Praxis in 10115 Berlin? Am 24.12. um 8:00?", []),
    ],
)
def test_it_redacts_each_kind_of_personal_data(text, kinds):
    redacted, found = redact(text)
    assert found == kinds
    assert redacted.count("[") == len(kinds)


def test_the_answer_check_accepts_the_practices_own_numbers_but_not_digits_glued_across_them():
    allowed = "Lindenallee 5\n10115 Berlin\n+49 30 5550999"

    assert pii_not_in("Rufen Sie uns an: +49 30 5550999.", allowed) == []
    assert [f.text for f in pii_not_in("Rufen Sie 115 4930 555 an.", allowed)] == ["115 4930 555"]


def test_check_digits_tell_real_numbers_from_near_misses():
    assert kvnr_is_valid("A123456780") and not kvnr_is_valid("A123456781")
    # The documented example of a Rentenversicherungsnummer.
    assert svnr_is_valid("15 070649 C 103") and not svnr_is_valid("15 070649 C 104")
    # A near-miss is still removed, as a long digit run.
    assert redact("KVNR A123456781")[0] == "KVNR A[number]"
    assert redact("DE89370400440532013001")[1] == ["number"]


DEMO_QUESTIONS = [
    ("Wo finde ich Sie?", "Wo finde ich die Praxis?"),
    ("How do I get to the practice?", "Where is the practice?"),
    ("Nehmen Sie Privatpatienten?", "Welche Versicherungen nehmen Sie an?"),
    ("Do you take private insurance?", "Which insurance do you accept?"),
    ("Was soll ich mitbringen?", "Was muss ich mitbringen?"),
    ("What do I need to bring?", "What should I bring?"),
    ("Gibt es Parkplätze?", "Wo kann ich parken?"),
    ("Is there parking?", "Where can I park?"),
    ("Wie kann ich online einen Termin buchen?", "Wie buche ich einen Termin?"),
    ("How can I book?", "How do I book an appointment?"),
    ("Kann ich meinen Termin absagen?", "Wie sage ich einen Termin ab?"),
    ("Can I cancel my appointment?", "How do I cancel an appointment?"),
]


def test_the_demo_faq_answers_practical_questions_in_german_and_english(db, settings):
    from django.core.management import call_command

    from chatbot import pipeline
    from practices.models import Practice
    from practices.selectors import practice_public_info

    settings.DEBUG = True  # demo_data refuses to run otherwise
    call_command("demo_data", "--weeks", "1", stdout=io.StringIO())

    for practice in Practice.objects.all():
        practice = practice_public_info(practice.public_id)
        entries = {entry.question: entry for entry in practice.faq_entries.all()}
        for message, question in DEMO_QUESTIONS:
            prepared = pipeline.prepare(message)
            result = pipeline.practice_answer(practice, prepared.text, prepared.language)
            assert result.source == f"faq:{entries[question].pk}", (practice.slug, message, result.source)
            assert result.language == entries[question].language


def test_staff_add_an_faq_entry_in_admin_and_the_bot_answers_with_it(world, web):
    from django.urls import reverse

    from chatbot import pipeline
    from practices.models import FAQEntry
    from practices.selectors import practice_public_info

    web.force_login(world.staff_a)
    changelist = web.get(reverse("admin:practices_faqentry_changelist"))
    assert changelist.status_code == 200
    assert world.a.faq.question in changelist.content.decode()
    assert world.b.faq.question not in changelist.content.decode()
    added = web.post(
        reverse("admin:practices_faqentry_add"),
        {
            "practice": world.a.practice.pk, "language": "de", "question": "Gibt es Kaffee im Wartezimmer?",
            "answer": "Ja, Kaffee und Wasser stehen für Sie bereit.", "keywords": "kaffee, getränke, wasser",
            "position": 3,
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    entry = FAQEntry.objects.get(question="Gibt es Kaffee im Wartezimmer?")

    prepared = pipeline.prepare("Bekomme ich bei Ihnen einen Kaffee?")
    result = pipeline.practice_answer(practice_public_info(world.a.practice.public_id), prepared.text, prepared.language)

    assert (result.source, result.answer) == (f"faq:{entry.pk}", "Ja, Kaffee und Wasser stehen für Sie bereit.")


@pytest.mark.parametrize(
    "language, heading, hint",
    [
        ("de", "Fragen zur Praxis?", "Bitte geben Sie keine persönlichen Daten ein."),
        ("en", "Questions about the practice?", "Please do not enter personal data."),
    ],
)
def test_the_practice_page_has_the_chat_box_in_the_page_language(chat, language, heading, hint):
    from tests.conftest import HttpsClient

    page = HttpsClient(headers={"accept-language": language}).get(f"/praxen/{chat.practice.public_id}/")
    html = page.content.decode()

    assert heading in html and hint in html
    assert f'data-language="{language}"' in html
    assert f'data-ask-url="/api/chat/{chat.practice.public_id}/"' in html
    assert 'aria-live="polite"' in html and '<label for="chat-message">' in html
    assert "/static/chatbot/chat.js" in html


def test_an_faq_answer_that_reads_like_medical_advice_is_not_sent_but_dont_know(chat):
    from chatbot import pipeline

    entry = chat.faq["parking-de"]
    entry.answer = "Parken Sie im Hof und nehmen Sie vorher 400 mg Ibuprofen."
    entry.save()

    prepared = pipeline.prepare("Wo kann ich parken?")
    result = pipeline.practice_answer(chat.practice, prepared.text, prepared.language)

    assert (result.category, result.answer) == ("unknown", knowledge.unknown_answer("de", chat.practice.phone))
