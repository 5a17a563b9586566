"""Dramatiq middleware of the platform."""

from __future__ import annotations

import logging

from dramatiq.middleware import Middleware
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def redis_queue_config_problems(client) -> list[str]:
    """What makes this Redis unfit to hold task messages (a cache setup loses them)."""
    try:
        config = client.config_get("appendonly")
        config.update(client.config_get("maxmemory-policy"))
    except RedisError as error:  # CONFIG may be disabled on managed Redis: nothing to learn
        return [f"could not read the configuration ({type(error).__name__})"]
    problems = []
    if config.get("appendonly") != "yes":
        problems.append("appendonly is off: messages are lost when Redis restarts")
    if config.get("maxmemory-policy") != "noeviction":
        problems.append(
            f"maxmemory-policy is {config.get('maxmemory-policy')}: Redis may evict queued messages"
        )
    return problems


class RedisQueueConfigCheck(Middleware):
    """Warn at worker start when Redis is configured as a cache rather than a queue."""

    def after_worker_boot(self, broker, worker):
        for problem in redis_queue_config_problems(broker.client):
            logger.warning("redis.config %s (set appendonly yes, maxmemory-policy noeviction)", problem)
