"""The wrappers patched into the `openai` SDK, and the one table that says where.

`WRAP_TARGETS` drives both `instrument` and `uninstrument`. The resource methods
(`chat.completions.create`, and `parse`, which posts by itself) start a call and end it, or watch
the stream it returned; the base-client hooks only report facts about the running call (an
attempt, the final response), so they cost a contextvar read for every other `openai` request;
`close` of the SDK's streams ends a watched stream's call. Targets are named by module path and
never imported here, so nothing needs `openai` installed until `instrument()` runs. As for the
Anthropic SDK, every step into our code is guarded: the application's result and errors pass
through untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Optional

from anthropic_otel._call.call import CURRENT, Call
from anthropic_otel._call.end import end
from anthropic_otel._call.outcome import Outcome, read, response_body
from anthropic_otel._hooks.active import Wrapped
from anthropic_otel._hooks.recording import recording_hooks
from anthropic_otel._hooks.results import close, close_async
from anthropic_otel._patches import WrapTarget
from anthropic_otel._telemetry import Telemetry
from anthropic_otel.openai_compat import _start as _start_call
from anthropic_otel.openai_compat._stream import watch_chunks

__all__ = ["WRAP_TARGETS", "State", "hosts_from", "set_state"]

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
    if _state is not None and (state is None or _state.telemetry is not state.telemetry):
        _state.telemetry.active = False
    _state = state


def _adopt(call: Call, result: Any) -> None:
    """End the call with the answer, or watch the stream it returned."""
    if call.response is None:
        call.response = getattr(result, "http_response", None) or getattr(result, "response", None)
    if not watch_chunks(call, result):
        end(call, read(call, Outcome(call.response, response_body(result))))


def _begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Call]:
    state = _state
    return _start_call.begin(state.telemetry, state.hosts, instance, kwargs) if state is not None else None


# `Completions.create` / `.parse` and their async twins: one call, with every retry.
create_sync, create_async = recording_hooks(_begin, _adopt)


def build_request(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._build_request(options, ...)`: once per HTTP attempt."""
    request = wrapped(*args, **kwargs)
    call = CURRENT.get()
    if call is not None:
        try:
            _start_call.note_attempt(call, request, args[0] if args else kwargs.get("options"))
        except Exception:
            log.debug("anthropic-otel: could not note an attempt", exc_info=True)
    return request


def process_response(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`{Sync,Async}APIClient._process_response(response=...)`: the successful HTTP response (headers)."""
    call = CURRENT.get()
    response = kwargs.get("response")
    if call is not None and response is not None:
        call.response = response
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
    WrapTarget("openai._streaming", "Stream.close", close),
    WrapTarget("openai._streaming", "AsyncStream.close", close_async),
)


def hosts_from(*sources: Optional[object]) -> frozenset[str]:
    """Host names from strings (comma-separated) and collections of strings, lower-cased."""
    hosts: set[str] = set()
    for source in sources:
        items: Collection[Any] = source.split(",") if isinstance(source, str) else (source or ())  # type: ignore[assignment]
        hosts.update(item.strip().lower() for item in items if isinstance(item, str) and item.strip())
    return frozenset(hosts)
