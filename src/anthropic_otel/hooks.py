"""The wrapper functions patched into the SDK, and the table that says where.

`WRAP_TARGETS` is the one list both `instrument` and `uninstrument` walk. Each hook is a thin
shell around `calls`: sync and async `request` share `calls.begin`/`calls.finish`, and differ only
in whether they await. The deeper hooks only report facts (an attempt, a response, the SDK's
span) into the current call, so they cost a contextvar read when no call is being recorded.
The tool-runner hooks hand over to `tool_runner` (and pass through on SDKs that trace runners).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional

from anthropic_otel import calls, tool_runner
from anthropic_otel.sdk_spans import enrich_sdk_span
from anthropic_otel.telemetry import Telemetry

__all__ = ["WRAP_TARGETS", "WrapTarget", "set_telemetry"]

log = logging.getLogger(__name__)

_telemetry: Optional[Telemetry] = None


def set_telemetry(telemetry: Optional[Telemetry]) -> None:
    """Point the hooks at what `instrument()` set up; `None` makes every hook a pass-through.

    The telemetry replaced is marked inactive: calls still in flight under it finish with it, but
    must not expect hooks that `uninstrument()` has removed (see `endings.complete`).
    """
    global _telemetry  # noqa: PLW0603 - the hooks are module functions patched into the SDK
    if _telemetry is not None and _telemetry is not telemetry:
        _telemetry.active = False
    _telemetry = telemetry


Wrapped = Callable[..., Any]


def request_sync(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`SyncAPIClient.request`: one call, with every retry."""
    telemetry = _telemetry
    record = calls.begin(telemetry, instance, args, kwargs) if telemetry is not None else None
    if record is None:
        return wrapped(*args, **kwargs)
    token = calls.enter(record)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as error:
        calls.leave(token)
        calls.finish(record, None, error)
        raise
    calls.leave(token)
    return calls.finish_result(record, result)


async def request_async(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`AsyncAPIClient.request`: as `request_sync`, awaited."""
    telemetry = _telemetry
    record = calls.begin(telemetry, instance, args, kwargs) if telemetry is not None else None
    if record is None:
        return await wrapped(*args, **kwargs)
    token = calls.enter(record)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as error:
        calls.leave(token)
        calls.finish(record, None, error)
        raise
    calls.leave(token)
    return calls.finish_result(record, result)


def build_request(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._build_request`: called once per HTTP attempt, with `retries_taken`."""
    request = wrapped(*args, **kwargs)
    if calls.current_call() is not None:
        try:
            calls.note_attempt(int(kwargs.get("retries_taken", 0)), request)
        except Exception:
            log.debug("anthropic-otel: could not note an attempt", exc_info=True)
    return request


def process_response(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`{Sync,Async}APIClient._process_response`: sees the successful HTTP response (headers).

    Works for the async variant too: the response is an argument, so nothing needs awaiting here.
    """
    response = kwargs.get("response")
    if response is not None:
        calls.note_response(response)
    return wrapped(*args, **kwargs)


def should_retry(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`BaseClient._should_retry(response)`: asked for each failed attempt; a True answer means a retry.

    The one place every SDK version shows the response of an attempt it retries (429s included),
    which otherwise never reaches the application or `_process_response`.
    """
    retry = wrapped(*args, **kwargs)
    if retry is True and calls.current_call() is not None:
        try:
            calls.note_retry(args[0] if args else kwargs.get("response"))
        except Exception:
            log.debug("anthropic-otel: could not note a retry", exc_info=True)
    return retry


def finish_api_call_span(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`anthropic._base_client.finish_api_call_span(client, span, result)` (SDK 1.14+)."""
    if len(args) >= 3 and calls.current_call() is not None:
        enrich_sdk_span(args[1], args[2])
    return wrapped(*args, **kwargs)


def runner_loop(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Base{Sync,Async}ToolRunner.__run__` (SDK < 1.14): the loop, inside an `invoke_agent` span."""
    telemetry = _telemetry
    inner = wrapped(*args, **kwargs)
    if telemetry is None or tool_runner.sdk_traces_runners():
        return inner
    return tool_runner.trace_run(telemetry, instance, inner)


def runner_turn(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Base{Sync,Async}ToolRunner._generate_tool_call_response` (SDK < 1.14): one turn's tool runs."""
    telemetry = _telemetry
    if telemetry is None or tool_runner.sdk_traces_runners():
        return wrapped(*args, **kwargs)
    return tool_runner.trace_turn(telemetry, wrapped, instance, args, kwargs)


def function_tool_call(wrapped: Wrapped, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`Beta{,Async}FunctionTool.call` (SDK < 1.14): a tool run inside a runner, in an `execute_tool` span."""
    telemetry = _telemetry
    if telemetry is None or tool_runner.sdk_traces_runners():
        return wrapped(*args, **kwargs)
    return tool_runner.run_tool(telemetry, wrapped, instance, args, kwargs)


@dataclass(frozen=True)
class WrapTarget:
    """One patch: `module.attribute` is replaced by a wrapper calling `hook`; `optional` ones may be missing."""

    module: str
    attribute: str
    hook: Callable[[Wrapped, Any, tuple[Any, ...], dict[str, Any]], Any]
    optional: bool = False


_RUNNER = "anthropic.lib.tools._beta_runner"
_FUNCTIONS = "anthropic.lib.tools._beta_functions"

WRAP_TARGETS: tuple[WrapTarget, ...] = (
    WrapTarget("anthropic._base_client", "SyncAPIClient.request", request_sync),
    WrapTarget("anthropic._base_client", "AsyncAPIClient.request", request_async),
    WrapTarget("anthropic._base_client", "BaseClient._build_request", build_request),
    WrapTarget("anthropic._base_client", "SyncAPIClient._process_response", process_response),
    WrapTarget("anthropic._base_client", "AsyncAPIClient._process_response", process_response),
    WrapTarget("anthropic._base_client", "BaseClient._should_retry", should_retry),
    WrapTarget("anthropic._base_client", "finish_api_call_span", finish_api_call_span, optional=True),
    # The tool runner (0.68+); the hooks pass through on SDKs that trace it themselves (1.14+).
    WrapTarget(_RUNNER, "BaseSyncToolRunner.__run__", runner_loop, optional=True),
    WrapTarget(_RUNNER, "BaseAsyncToolRunner.__run__", runner_loop, optional=True),
    WrapTarget(_RUNNER, "BaseSyncToolRunner._generate_tool_call_response", runner_turn, optional=True),
    WrapTarget(_RUNNER, "BaseAsyncToolRunner._generate_tool_call_response", runner_turn, optional=True),
    WrapTarget(_FUNCTIONS, "BetaFunctionTool.call", function_tool_call, optional=True),
    WrapTarget(_FUNCTIONS, "BetaAsyncFunctionTool.call", function_tool_call, optional=True),
)
