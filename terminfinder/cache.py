"""The default cache fails open: when Redis cannot be reached, a read finds nothing and a write
is dropped (with a warning), instead of failing the request.

What lives in the default cache is safe to lose for a while: rate-limit counters (allauth's
login and sign-up limits, the API throttles). A patient must still be able to log in and book
while Redis is away; the outbox keeps the messages. The price is that rate limits do not count
during the outage.

Data that must not silently vanish (the chat's tickets) uses the "tickets" cache, same Redis,
which raises like any other client, so the API can answer 503.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _warn(operation: str, error: RedisError) -> None:
    logger.warning("cache.unreachable operation=%s error=%s", operation, type(error).__name__)


class FailOpenRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            _warn("get", error)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            _warn("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            _warn("has_key", error)
            return False

    def add(self, key, value, timeout=None, version=None):
        # allauth takes a short lock with add() in a loop: "added" lets it go on.
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            _warn("add", error)
            return True

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            _warn("set", error)

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            _warn("set_many", error)
            return list(data)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            _warn("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            _warn("delete", error)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            _warn("delete_many", error)
