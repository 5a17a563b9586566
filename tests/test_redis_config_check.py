"""Workers warn when Redis is set up as a cache (eviction, no persistence) instead of a queue."""

import dramatiq
import pytest

from terminfinder.outbox.middleware import redis_queue_config_problems


@pytest.fixture
def redis_client():
    client = dramatiq.get_broker().client
    before = {**client.config_get("appendonly"), **client.config_get("maxmemory-policy")}
    yield client
    client.config_set("appendonly", before["appendonly"])
    client.config_set("maxmemory-policy", before["maxmemory-policy"])


def test_it_finds_nothing_wrong_with_the_harness_redis(redis_client):
    assert redis_queue_config_problems(redis_client) == []


def test_it_names_eviction_and_missing_persistence(redis_client):
    redis_client.config_set("maxmemory-policy", "allkeys-lru")
    redis_client.config_set("appendonly", "no")
    problems = redis_queue_config_problems(redis_client)
    assert any("allkeys-lru" in p for p in problems)
    assert any("appendonly" in p for p in problems)
