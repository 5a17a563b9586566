"""Periodic relay of outbox rows that could not be sent at commit (Redis was down)."""

import dramatiq
from dramatiq_crontab import interval

from terminfinder.queues import HIGH

from .services import outbox_relay


# On `high`: the rows it relays are mostly booking confirmations, and its own worker group is
# the one that must keep moving.
@interval(seconds=20)
@dramatiq.actor(queue_name=HIGH, max_retries=0, time_limit=120_000)
def relay_outbox() -> None:
    outbox_relay()
