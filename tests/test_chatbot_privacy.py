"""No history, no leak: every case of the table goes through the real path — the API, the queue,
a real worker process (`rundramatiq`) with the model switched on (the local OpenAI-compatible
server stands in for OpenAI, which cannot be reached from here) — and afterwards no piece of
personal data from the messages is in the captured logs (this process and the worker's), in any
request that reached the model, in any table, or in Redis (queue and cache databases) once the
answers' time to live has passed. No answer contains it either."""

from __future__ import annotations

import logging
import os
import time

import pytest
import redis
from django.conf import settings as django_settings
from rest_framework.throttling import ScopedRateThrottle

from chatbot import tickets
from tests import plugin
from tests.api_client import api_client
from tests.chatbot_cases import CASES, PII_TOKENS, ask_url, expected_source, make_chat_practice
from tests.flow import wait_until
from tests.test_account_data import every_value_in_the_database
from tests.workers import WorkerGroup

pytestmark = pytest.mark.postgres

TTL = 4


def redis_dump(url: str) -> tuple[bytes, list[bytes]]:
    """Every key and value of one Redis database, whatever the type."""
    client = redis.Redis.from_url(url)
    chunks, keys = [], []
    for key in client.scan_iter(count=1000):
        keys.append(key)
        kind = client.type(key)
        if kind == b"string":
            value = [client.get(key) or b""]
        elif kind == b"hash":
            value = [b for pair in client.hgetall(key).items() for b in pair]
        elif kind == b"list":
            value = client.lrange(key, 0, -1)
        elif kind == b"set":
            value = list(client.smembers(key))
        elif kind == b"zset":
            value = client.zrange(key, 0, -1)
        else:
            value = []
        chunks += [key, *value]
    client.close()
    return b"\n".join(chunks), keys


@pytest.fixture
def chat(transactional_db):
    return make_chat_practice()


@pytest.fixture
def worker():
    plugin.openai_server.clear()
    group = WorkerGroup(
        "default", "low", threads=4,
        env={
            "OPENAI_API_KEY": "test-key-not-real",
            "OPENAI_BASE_URL": plugin.openai_server.base_url,
            "OPENAI_MODEL": "test-model",
            "CHATBOT_OPENAI_TIMEOUT": "3",
            "CHATBOT_RESULT_TTL": str(TTL),
            # Even debug logs must carry no message text.
            "LOG_LEVEL": "DEBUG",
        },
    ).start()
    yield group
    group.stop()
    plugin.openai_server.clear()


def test_no_personal_data_from_any_case_is_left_in_logs_model_requests_tables_or_redis(
    chat, worker, settings, caplog, monkeypatch
):
    settings.CHATBOT_RESULT_TTL = TTL
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"chat": "1000/minute", "chat_poll": "100000/minute"})
    caplog.set_level(logging.DEBUG)
    client = api_client()
    answers = []

    for case in CASES:
        asked = client.post(ask_url(case, chat), {"message": case.message}, format="json")
        assert asked.status_code == 202
        ticket = asked.json()["ticket"]
        done = wait_until(lambda: client.get(asked.json()["poll_url"]).json().get("status") == "done", timeout=20, interval=0.05)
        assert done, f"no answer for {case.message!r}:\n{worker.output()[-3000:]}"
        body = client.get(asked.json()["poll_url"]).json()
        assert (body["category"], tickets.ticket_result(ticket)["source"]) == (case.category, expected_source(case, chat)), case.message
        # The model phrases every answered question; fixed answers never reach it.
        assert body["phrased"] is (case.category == "answered")
        answers.append(body["answer"])

    # The controls: the model was asked, the worker logged, the stores were reached.
    model_requests = list(plugin.openai_server.requests)
    assert len(model_requests) == sum(c.category == "answered" for c in CASES)
    assert all(r["body"]["store"] is False for r in model_requests)
    assert worker.output().count("chatbot.answer") == len(CASES)
    assert "chatbot.answer" in worker.output() and "category=" in worker.output()

    time.sleep(TTL + 1.5)
    queue_dump, _ = redis_dump(os.environ["REDIS_URL"])
    cache_dump, cache_keys = redis_dump(django_settings.CACHE_URL)
    assert not [k for k in cache_keys if b"chatbot:" in k], "every ticket expired"
    places = {
        "answers": "\n".join(answers),
        "log of this process": caplog.text,
        "log of the worker": worker.output(),
        "requests to the model": "\n".join(r["raw"] + repr(r["headers"]) for r in model_requests),
        "tables": every_value_in_the_database(),
        "Redis queue database": queue_dump.decode(errors="replace"),
        "Redis cache database": cache_dump.decode(errors="replace"),
    }
    leaks = {place: [t for t in PII_TOKENS if t in text or t.casefold() in text.casefold()] for place, text in places.items()}
    assert leaks == {place: [] for place in places}
