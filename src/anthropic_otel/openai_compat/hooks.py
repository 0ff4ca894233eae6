"""The wrappers patched into the `openai` SDK, and the one table that says where.

`WRAP_TARGETS` drives both `instrument` and `uninstrument`. The resource methods
(`chat.completions.create`, and `parse`, which posts by itself) begin and finish a call; the
base-client hooks only report facts about the running call (an attempt, the final response), so
they cost a contextvar read for every other `openai` request. Targets are named by module path
and never imported here, so nothing needs `openai` installed until `instrument()` runs.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Callable, Optional

from anthropic_otel.hooks import WrapTarget
from anthropic_otel.openai_compat import calls
from anthropic_otel.openai_compat.streaming import wrap_stream
from anthropic_otel.telemetry import Telemetry

__all__ = ["WRAP_TARGETS", "State", "set_state"]

log = logging.getLogger("anthropic_otel.openai_compat")


@dataclass(frozen=True)
class State:
    """What `instrument()` set up: where calls report, and which hosts are the Claude API."""

    telemetry: Telemetry
    hosts: frozenset[str]


_state: Optional[State] = None


def set_state(state: Optional[State]) -> None:
    """Point the hooks at what `instrument()` set up; `None` makes every hook a pass-through."""
    global _state  # noqa: PLW0603 - the hooks are module functions patched into the SDK
    _state = state


Wrapped = Callable[..., Any]


def _begin(instance: Any, kwargs: dict[str, Any]) -> Optional[calls.CompatCall]:
    state = _state
    return calls.begin(state.telemetry, state.hosts, instance, kwargs) if state is not None else None


def _finish_result(call: calls.CompatCall, result: Any) -> Any:
    """What the application gets: a stream wrapped to finish when it is done, anything else as is."""
    try:
        proxy = wrap_stream(call, result)
        if proxy is not None:
            if call.response is None:
                call.response = getattr(result, "response", None)
            return proxy
    except Exception:
        log.debug("anthropic-otel: could not wrap a chat completion stream", exc_info=True)
    calls.finish(call, result, None)
    return result


class _Current:
    """`call` current for the block (sync or around an `await`); an exception out of it finishes the call.

    The exception itself passes through unchanged.
    """

    __slots__ = ("_call", "_token")

    def __init__(self, call: calls.CompatCall) -> None:
        self._call = call

    def __enter__(self) -> None:
        self._token = calls.enter(self._call)

    def __exit__(self, kind: Any, error: Optional[BaseException], traceback: Any) -> None:
        calls.leave(self._token)
        if error is not None:
            calls.finish(self._call, None, error)


def create_sync(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Completions.create` / `.parse`: one call, with every retry."""
    call = _begin(instance, kwargs)
    if call is None:
        return wrapped(*args, **kwargs)
    with _Current(call):
        result = wrapped(*args, **kwargs)
    return _finish_result(call, result)


async def create_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`AsyncCompletions.create` / `.parse`: as `create_sync`, awaited."""
    call = _begin(instance, kwargs)
    if call is None:
        return await wrapped(*args, **kwargs)
    with _Current(call):
        result = await wrapped(*args, **kwargs)
    return _finish_result(call, result)


def build_request(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._build_request(options, ...)`: once per HTTP attempt."""
    request = wrapped(*args, **kwargs)
    call = calls.current_call()
    if call is not None:
        try:
            options = args[0] if args else kwargs.get("options")
            calls.note_attempt(call, request, options)
        except Exception:
            log.debug("anthropic-otel: could not note an attempt", exc_info=True)
    return request


def process_response(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`{Sync,Async}APIClient._process_response(response=...)`: the successful HTTP response (headers)."""
    call = calls.current_call()
    response = kwargs.get("response")
    if call is not None and response is not None:
        calls.note_response(call, response)
    return wrapped(*args, **kwargs)


_CHAT = "openai.resources.chat.completions"
_BETA_CHAT = "openai.resources.beta.chat.completions"  # `parse` before it left beta (openai < 1.92)
_BASE = "openai._base_client"

WRAP_TARGETS: tuple[WrapTarget, ...] = (
    WrapTarget(_CHAT, "Completions.create", create_sync),
    WrapTarget(_CHAT, "AsyncCompletions.create", create_async),
    WrapTarget(_CHAT, "Completions.parse", create_sync, optional=True),
    WrapTarget(_CHAT, "AsyncCompletions.parse", create_async, optional=True),
    WrapTarget(_BETA_CHAT, "Completions.parse", create_sync, optional=True),
    WrapTarget(_BETA_CHAT, "AsyncCompletions.parse", create_async, optional=True),
    WrapTarget(_BASE, "BaseClient._build_request", build_request),
    WrapTarget(_BASE, "SyncAPIClient._process_response", process_response),
    WrapTarget(_BASE, "AsyncAPIClient._process_response", process_response),
)


def hosts_from(*sources: Optional[object]) -> frozenset[str]:
    """Host names from strings (comma-separated) and collections of strings, lower-cased."""
    hosts: set[str] = set()
    for source in sources:
        items: Collection[Any] = source.split(",") if isinstance(source, str) else (source or ())  # type: ignore[assignment]
        hosts.update(item.strip().lower() for item in items if isinstance(item, str) and item.strip())
    return frozenset(hosts)
