"""Queue health read straight from Dramatiq's Redis keys, and dead-letter requeue/discard.

Key layout of dramatiq's Redis broker (namespace `dramatiq`):
  <ns>:<queue>            list of ready message ids      <ns>:<queue>.msgs     id → message
  <ns>:<queue>.DQ         list of delayed message ids    <ns>:<queue>.DQ.msgs  id → message
  <ns>:<queue>.XQ         zset of dead-lettered ids      <ns>:<queue>.XQ.msgs  id → message
  <ns>:__heartbeats__     zset worker id → last heartbeat (ms)
Delayed messages a worker has fetched wait in its memory until due; they are counted from the
`.DQ.msgs` hash, which holds every delayed message until it is acknowledged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import dramatiq
from dramatiq import Message

from terminfinder.outbox.services import outbox_backlog
from terminfinder.queues import ALL


@dataclass
class QueueStats:
    name: str
    ready: int
    delayed: int
    dead: int
    oldest_ready_age_s: float | None


@dataclass
class DeadLetter:
    message_id: str
    queue: str
    actor: str
    args: list
    retries: int
    failed_at: datetime
    enqueued_at: datetime | None


def _broker():
    broker = dramatiq.get_broker()
    return broker, broker.client, broker.namespace


def queue_stats() -> list[QueueStats]:
    broker, client, ns = _broker()
    now_ms = time.time() * 1000
    stats = []
    for queue in ALL:
        pipe = client.pipeline()
        pipe.llen(f"{ns}:{queue}")
        pipe.hlen(f"{ns}:{queue}.DQ.msgs")
        pipe.zcard(f"{ns}:{queue}.XQ")
        pipe.lindex(f"{ns}:{queue}", 0)
        ready, delayed, dead, oldest_id = pipe.execute()
        oldest_age = None
        if oldest_id:
            raw = client.hget(f"{ns}:{queue}.msgs", oldest_id)
            if raw:
                oldest_age = max(0.0, (now_ms - json.loads(raw)["message_timestamp"]) / 1000)
        stats.append(QueueStats(queue, ready, delayed, dead, oldest_age))
    return stats


def worker_heartbeats() -> dict:
    """The last heartbeat of any worker, and how many workers beat within the timeout."""
    broker, client, ns = _broker()
    beats = client.zrange(f"{ns}:__heartbeats__", 0, -1, withscores=True)
    if not beats:
        return {"last": None, "alive": 0}
    now_ms = time.time() * 1000
    last = max(score for _, score in beats)
    alive = sum(1 for _, score in beats if now_ms - score < broker.heartbeat_timeout)
    return {"last": datetime.fromtimestamp(last / 1000, UTC), "alive": alive}


def dead_letters(limit: int = 100) -> list[DeadLetter]:
    broker, client, ns = _broker()
    letters = []
    for queue in ALL:
        entries = client.zrevrange(f"{ns}:{queue}.XQ", 0, limit - 1, withscores=True)
        if not entries:
            continue
        raws = client.hmget(f"{ns}:{queue}.XQ.msgs", [mid for mid, _ in entries])
        for (message_id, score), raw in zip(entries, raws, strict=True):
            if raw is None:
                continue
            data = json.loads(raw)
            letters.append(
                DeadLetter(
                    message_id=message_id.decode() if isinstance(message_id, bytes) else message_id,
                    queue=queue,
                    actor=data["actor_name"],
                    args=data.get("args", []),
                    retries=data.get("options", {}).get("retries", 0),
                    failed_at=datetime.fromtimestamp(score / 1000, UTC),
                    enqueued_at=datetime.fromtimestamp(data["message_timestamp"] / 1000, UTC)
                    if data.get("message_timestamp")
                    else None,
                )
            )
    letters.sort(key=lambda letter: letter.failed_at, reverse=True)
    return letters[:limit]


def _take_dead(queue: str, message_id: str) -> dict | None:
    if queue not in ALL:
        return None
    broker, client, ns = _broker()
    raw = client.hget(f"{ns}:{queue}.XQ.msgs", message_id)
    if raw is None:
        return None
    pipe = client.pipeline()
    pipe.zrem(f"{ns}:{queue}.XQ", message_id)
    pipe.hdel(f"{ns}:{queue}.XQ.msgs", message_id)
    removed, _ = pipe.execute()
    # Another admin may have taken it in the same instant: only the one who removed it acts.
    return json.loads(raw) if removed else None


def dead_letter_requeue(queue: str, message_id: str) -> bool:
    """Put a dead letter back on its queue with a fresh retry budget."""
    data = _take_dead(queue, message_id)
    if data is None:
        return False
    options = {k: v for k, v in data.get("options", {}).items() if k not in {"retries", "traceback", "eta"}}
    message = Message(
        queue_name=queue,
        actor_name=data["actor_name"],
        args=tuple(data.get("args", ())),
        kwargs=data.get("kwargs", {}),
        options=options,
        message_id=data["message_id"],
        message_timestamp=int(time.time() * 1000),
    )
    dramatiq.get_broker().enqueue(message)
    return True


def dead_letter_discard(queue: str, message_id: str) -> bool:
    return _take_dead(queue, message_id) is not None


def overview() -> dict:
    """Everything the queues page and `manage.py queues` show."""
    return {
        "queues": queue_stats(),
        "workers": worker_heartbeats(),
        "outbox": outbox_backlog(),
        "dead_letters": dead_letters(),
    }
