"""Ends asked for by the garbage collector, run where they cannot break the interpreter.

A result the application drops unclosed is often freed by the cycle collector (the SDK's stream
holds its own iterator, which holds the stream), and the collector runs at whatever allocation
comes: inside a `ContextVar.set` among others. Before Python 3.12, a finalizer run there that sets
a context variable itself frees the context that the interrupted `set` is still reading (CPython
gh-148891), and the process crashes later, anywhere. Ending a call does set one: OpenTelemetry's
simple span and log processors attach a context while they export. So on those versions an end
asked for during a collection (`collected`) runs in a thread of its own, whose context is its own,
while the finalizer waits for it: when the collection returns the span has ended, as it would have
inline. Everywhere else, and on 3.12 and later, the end runs inline.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import Any, Callable

__all__ = ["collected", "install", "remove"]

log = logging.getLogger("anthropic_otel.lifecycle")

# How long a finalizer waits for its end: only a hang detector. An end that needs a lock the
# collecting thread holds (the collection interrupted it) finishes when that thread lets go.
_WAIT_S = 5.0
_AFFECTED = sys.version_info < (3, 12)

_collecting = False
_owners: set[str] = set()


def _phase(phase: str, info: dict[str, Any]) -> None:
    global _collecting  # noqa: PLW0603 - one flag for the collector, which runs one collection at a time
    _collecting = phase == "start"


def install(owner: str) -> None:
    """Watch for collections while `owner` (an instrumentor's SDK) is instrumented."""
    _owners.add(owner)
    if _AFFECTED and _phase not in gc.callbacks:
        gc.callbacks.append(_phase)


def remove(owner: str) -> None:
    """`owner` is uninstrumented: stop watching when no other is still on."""
    global _collecting  # noqa: PLW0603
    _owners.discard(owner)
    if not _owners and _phase in gc.callbacks:
        gc.callbacks.remove(_phase)
        _collecting = False


def collected(end: Callable[..., None], *args: Any) -> None:
    """A `weakref.finalize` callback: `end(*args)` (which never raises), in a thread of its own during
    a collection; inline if no thread can be started."""
    if _collecting:
        try:
            worker = threading.Thread(target=_run, args=(end, args), name="anthropic-otel-end", daemon=True)
            worker.start()
            worker.join(_WAIT_S)
            return
        except Exception:
            log.debug("anthropic-otel: could not end a collected result's call in a thread", exc_info=True)
    end(*args)


def _run(end: Callable[..., None], args: tuple[Any, ...]) -> None:
    try:
        end(*args)
    except Exception:
        log.debug("anthropic-otel: could not end a collected result's call", exc_info=True)
