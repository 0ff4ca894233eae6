"""Where the hooks go: the one table of wrap targets that both `instrument` and `uninstrument` walk.

Each target names a method or function of the SDK by module path (nothing is imported here) and
the hook that wraps it (`_hooks`): the SDK's `request()` and the points inside it, the SDK's own
span (1.14+), the `close()` and `parse()` of results read later, and the tool runner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from anthropic_otel._hooks.active import Wrapped, set_telemetry
from anthropic_otel._hooks.calls import (
    body_end,
    build_request,
    finish_api_call_span,
    process_response,
    request_async,
    request_sync,
    should_retry,
)
from anthropic_otel._hooks.results import (
    close,
    close_async,
    close_response,
    close_response_async,
    parse,
    parse_async,
)
from anthropic_otel._hooks.runner import function_tool_call, runner_loop, runner_span_end, runner_turn, sdk_tool_use

__all__ = ["WRAP_TARGETS", "WrapTarget", "set_telemetry"]


@dataclass(frozen=True)
class WrapTarget:
    """One patch: `module.attribute` is replaced by a wrapper calling `hook`; `optional` ones may be missing."""

    module: str
    attribute: str
    hook: Callable[[Wrapped, Any, tuple[Any, ...], dict[str, Any]], Any]
    optional: bool = False


_BASE = "anthropic._base_client"
_RUNNER = "anthropic.lib.tools._beta_runner"
_FUNCTIONS = "anthropic.lib.tools._beta_functions"

WRAP_TARGETS: tuple[WrapTarget, ...] = (
    WrapTarget(_BASE, "SyncAPIClient.request", request_sync),
    WrapTarget(_BASE, "AsyncAPIClient.request", request_async),
    WrapTarget(_BASE, "BaseClient._build_request", build_request),
    WrapTarget(_BASE, "SyncAPIClient._process_response", process_response),
    WrapTarget(_BASE, "AsyncAPIClient._process_response", process_response),
    WrapTarget(_BASE, "BaseClient._should_retry", should_retry),
    # The SDK's own span (1.14+): handed over before it ends, and the end of a body read later.
    WrapTarget(_BASE, "finish_api_call_span", finish_api_call_span, optional=True),
    WrapTarget("anthropic._tracing", "FirstEnd.end", body_end, optional=True),
    # Results read later, watched in place: closing them ends their call.
    WrapTarget("anthropic._streaming", "Stream.close", close),
    WrapTarget("anthropic._streaming", "AsyncStream.close", close_async),
    WrapTarget("anthropic._decoders.jsonl", "JSONLDecoder.close", close, optional=True),
    WrapTarget("anthropic._decoders.jsonl", "AsyncJSONLDecoder.close", close_async, optional=True),
    WrapTarget("anthropic._response", "APIResponse.parse", parse),
    WrapTarget("anthropic._response", "AsyncAPIResponse.parse", parse_async),
    WrapTarget("anthropic._response", "APIResponse.close", close_response),
    WrapTarget("anthropic._response", "AsyncAPIResponse.close", close_response_async),
    WrapTarget("anthropic._legacy_response", "LegacyAPIResponse.parse", parse, optional=True),
    # The tool runner (0.68+): its loop's totals on every version, its spans where the SDK makes none
    # (before 1.14); on 1.14+ the SDK's runner span gets the totals and its tool runs are timed.
    WrapTarget(_RUNNER, "BaseSyncToolRunner.__run__", runner_loop, optional=True),
    WrapTarget(_RUNNER, "BaseAsyncToolRunner.__run__", runner_loop, optional=True),
    WrapTarget(_RUNNER, "BaseSyncToolRunner._generate_tool_call_response", runner_turn, optional=True),
    WrapTarget(_RUNNER, "BaseAsyncToolRunner._generate_tool_call_response", runner_turn, optional=True),
    WrapTarget(_FUNCTIONS, "BetaFunctionTool.call", function_tool_call, optional=True),
    WrapTarget(_FUNCTIONS, "BetaAsyncFunctionTool.call", function_tool_call, optional=True),
    WrapTarget(_RUNNER, "end_tool_runner_span", runner_span_end, optional=True),
    WrapTarget(_RUNNER, "tool_use_span", sdk_tool_use, optional=True),
)
