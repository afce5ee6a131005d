"""Redis pub/sub wake-up for the change feed: followers hear of a write at once instead of at the next
poll. Only a hint: the change itself is in change_log, so a lost message costs one poll interval."""
from __future__ import annotations

import redis

from .changes import CHANNEL


class RedisNotifier:
    """publish() after a write; wait(timeout) in the follower thread until a message or the timeout."""

    def __init__(self, url: str, channel: str = CHANNEL):
        self.channel = channel
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1,
                                           health_check_interval=10)
        self._pubsub = None

    def publish(self) -> None:
        self.client.publish(self.channel, b"1")

    def wait(self, timeout: float) -> bool:
        """True if woken by a message; raises on Redis errors (the feed then falls back to polling)."""
        try:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self.channel)
            msg = self._pubsub.get_message(timeout=timeout)
            while msg is not None and self._pubsub.get_message(timeout=0) is not None:
                pass  # several writes, one wake-up
            return msg is not None
        except redis.RedisError:
            self.close()
            raise

    def close(self) -> None:
        if self._pubsub is not None:
            try:
                self._pubsub.close()
            except redis.RedisError:
                pass
            self._pubsub = None
