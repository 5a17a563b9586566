"""API throttles that keep counting in the shared cache but never turn a cache outage into an
outage of the API: a booking must go through while Redis is away (the outbox keeps its
messages), so a throttle that cannot reach its counters lets the request pass."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class FailOpenScopedRateThrottle(ScopedRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            logger.warning("throttle.cache_unreachable scope=%s error=%s", self.scope, type(error).__name__)
            return True
