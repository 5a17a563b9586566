"""The help page: how booking, cancelling, alerts and the account work, with the help bot's chat
box; every page links to it. The practice page keeps the practice bot's box."""

from __future__ import annotations

import re

from django.urls import reverse

from tests.conftest import HttpsClient


def chat_form(html: str) -> str:
    match = re.search(r"<form class=\"chat-form\"[^>]*>", html)
    assert match, "no chat box on the page"
    return match.group(0)


def test_the_help_page_explains_the_product_and_asks_the_help_bot(db):
    html = HttpsClient().get(reverse("chatbot:help")).content.decode()

    assert "<h1>Hilfe</h1>" in html
    for heading in ("Termin buchen", "Absagen", "Terminbenachrichtigungen", "Ihr Konto und Ihre Daten"):
        assert f">{heading}</h2>" in html
    for name in ("bookings:search", "bookings:appointments", "bookings:alerts", "bookings:account"):
        assert f'href="{reverse(name)}"' in html
    form = chat_form(html)
    assert f'data-ask-url="{reverse("api:chat-help")}"' in form
    assert 'data-language="de"' in form
    assert "Fragen zu Terminfinder?" in html
    assert "keine medizinischen Auskünfte" in html


def test_the_help_page_speaks_english_on_request(db):
    client = HttpsClient()
    client.post(reverse("set_language"), {"language": "en"})

    html = client.get(reverse("chatbot:help")).content.decode()

    assert "<h1>Help</h1>" in html
    assert "Questions about Terminfinder?" in html
    assert 'data-language="en"' in chat_form(html)


def test_every_page_links_to_the_help_page(world):
    html = HttpsClient().get(reverse("home")).content.decode()

    assert f'<a href="{reverse("chatbot:help")}">Hilfe</a>' in html


def test_the_practice_page_asks_the_practice_bot(world):
    url = reverse("practices:detail", args=[world.a.practice.public_id])

    html = HttpsClient().get(url).content.decode()

    form = chat_form(html)
    assert f'data-ask-url="{reverse("api:chat-practice", args=[world.a.practice.public_id])}"' in form
    assert "Fragen zur Praxis?" in html
    assert "Bitte rufen Sie die Praxis an." in form
