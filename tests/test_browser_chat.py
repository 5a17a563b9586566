"""The chat boxes in Chromium: on the practice page a question typed and sent with the keyboard
is answered from the practice's FAQ by a real worker process (the answer shown as text), and on
the help page (linked from every page's footer) the help bot answers on `low`; no page has a
serious or critical axe violation.

Needs PostgreSQL: the worker process reads the live server's database."""

from __future__ import annotations

import pytest

from tests.browser import SCREENSHOTS, browser, new_visit, server  # noqa: F401 (fixtures)
from tests.chatbot_cases import make_chat_practice
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.fixture
def workers():
    """Starts a real worker group on the given queue; all are stopped after the test."""
    groups = []

    def start(queue: str) -> WorkerGroup:
        groups.append(WorkerGroup(queue).start())
        return groups[-1]

    yield start
    for group in groups:
        group.stop()


def test_a_visitor_asks_the_chat_box_and_reads_the_faq_answer(browser, server, workers):
    workers("default")  # the practice bot's queue
    chat = make_chat_practice()
    visit = new_visit(browser, server, SCREENSHOTS / "chat")
    page = visit.page
    try:
        visit.open(f"/praxen/{chat.practice.public_id}/")
        box = page.get_by_role("region", name="Fragen zur Praxis?")
        assert box.get_by_text("Bitte geben Sie keine persönlichen Daten ein").is_visible()
        assert box.get_by_text("keine medizinischen Auskünfte").is_visible()
        status = box.get_by_role("status")

        field = box.get_by_label("Ihre Frage")
        field.focus()
        page.keyboard.type("Ich heiße Anna Beispielfrau, wo kann ich parken?")
        page.keyboard.press("Enter")

        status.get_by_text(chat.faq["parking-de"].answer).wait_for(timeout=20_000)
        assert box.get_by_text("persönliche Daten aus Ihrer Frage entfernt").is_visible()
        assert field.input_value() == ""
        visit.check("practice-chat-answered")

        # Markup in an answer stays text.
        chat.faq["parking-de"].answer = "<b>Im Hof</b> parken"
        chat.faq["parking-de"].save()
        field.fill("Gibt es Parkplätze?")
        box.get_by_role("button", name="Fragen").click()
        status.get_by_text("<b>Im Hof</b> parken").wait_for(timeout=20_000)
        assert box.locator("b").count() == 0

        # An emergency gets the emergency answer.
        field.fill("Ich habe starke Brustschmerzen")
        field.press("Enter")
        status.get_by_text("112", exact=False).wait_for(timeout=20_000)
        visit.check("practice-chat-emergency")
        assert visit.violations == {}, visit.violations
        assert not [url for url in visit.requested if "Beispielfrau" in url or "parken" in url]
    finally:
        page.context.close()


def test_a_visitor_asks_the_help_bot_on_the_help_page(browser, server, workers):
    workers("low")  # the help bot's queue
    from chatbot import knowledge

    visit = new_visit(browser, server, SCREENSHOTS / "chat")
    page = visit.page
    try:
        visit.open("/")
        page.get_by_role("contentinfo").get_by_role("link", name="Hilfe").click()
        page.wait_for_url("**/hilfe/")
        box = page.get_by_role("region", name="Fragen zu Terminfinder?")
        field = box.get_by_label("Ihre Frage")
        field.fill("Wie lösche ich mein Konto?")
        field.press("Enter")

        deletion = next(d.answer for d in knowledge.help_documents("de") if d.source == "help:deletion")
        box.get_by_role("status").get_by_text(deletion).wait_for(timeout=20_000)
        visit.check("help-chat-answered")
        assert visit.violations == {}, visit.violations
    finally:
        page.context.close()
