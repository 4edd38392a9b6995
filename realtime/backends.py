"""Choosing a broker backend by URL scheme.

Backends are imported lazily, so redis is only imported where it is used; they import
the protocol in `realtime.broker`, never the other way round.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from realtime.broker import Broker

__all__ = ["create_broker"]


def create_broker(url: str) -> Broker:
    """`memory://` (one process) or `redis://` / `rediss://` (any number)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from realtime.memory import MemoryBroker

        return MemoryBroker()
    if scheme in {"redis", "rediss"}:
        from realtime.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(
        f"unsupported broker URL scheme {scheme!r}: use memory://, redis:// or rediss://"
    )
