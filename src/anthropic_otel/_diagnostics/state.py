"""Bounded memory for detectors that compare a call with earlier ones.

Detectors keep state keyed by route, model or conversation, all of which come from the
application and may be unbounded (conversation ids especially). `BoundedLRU` holds at most a
fixed number of keys and forgets the least recently used one first, so a long-running process
keeps constant memory whatever its traffic. Not thread-safe by itself: detectors hold a lock.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any, Generic, Optional, TypeVar

__all__ = ["BoundedLRU", "canonical", "digest"]

K = TypeVar("K")
V = TypeVar("V")


class BoundedLRU(Generic[K, V]):
    """A mapping of at most `capacity` keys; the least recently used one goes first."""

    __slots__ = ("_data", "capacity")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> Optional[V]:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def _plain(value: Any) -> Any:
    """JSON for what `json.dumps` cannot serialise: SDK models (as the API would get them), else `str`."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(value)


def canonical(value: Any) -> bytes:
    """A stable serialisation of request JSON: equal content gives equal bytes, key order aside."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain).encode()


def digest(*parts: bytes) -> bytes:
    """An 8-byte hash: state keeps these instead of prompt content."""
    hasher = hashlib.blake2b(digest_size=8)
    for part in parts:
        hasher.update(part)
    return hasher.digest()
