"""A stand-in for slow `low` work (alerts, calendar pulls): sleeps, touches nothing."""

import time

import dramatiq

from terminfinder.queues import LOW


@dramatiq.actor(queue_name=LOW, max_retries=0)
def bench_sleep(milliseconds: int) -> None:
    time.sleep(milliseconds / 1000)
