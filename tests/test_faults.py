"""A fault anywhere inside the instrumentation never reaches the application.

Every function of ours that runs inside an application call is made to raise, in turn, while a
scenario it runs in is replayed: the application must see exactly what it sees bare (the same
return values, the same exceptions, the same number of HTTP requests), every span must end
exactly once, and no call may stay current (our contextvar, the OpenTelemetry context) after it.
The functions are found by watching the scenarios run (`sys.setprofile`), and the fault is
raised at a function's entry by a trace function (`sys.settrace`), so the test needs no
knowledge of how the code is laid out.

`GUARD_SITES` are where our code is entered from outside (the wrappers patched into the SDKs,
the iterators the SDK reads results through, finalizers): each catches whatever the code it calls
raises. `SITES` lists every other function that runs inside an application call; a new one makes
this test fail until it is listed here, and so covered.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Callable, Optional

import anthropic
import openai
import pytest
from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._call.call import CURRENT
from anthropic_otel.openai_compat import OpenAICompatInstrumentor
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply, ToolUse
from tests.conftest import ClientFactory
from tests.scenarios import catalogue, normalise, outcome_of_error, run_scenario

PACKAGE = Path(anthropic_otel.__file__).parent

GUARD_SITES = {
    "_call/collected.py:_phase",
    "_call/collected.py:_run",
    "_call/collected.py:collected",
    "_call/batch_results.py:BatchResultsRecorder.__init__",
    "_call/batch_results.py:BatchResultsRecorder._on_message",
    "_call/batch_results.py:BatchResultsRecorder.on_item",
    "_call/batch_results.py:BatchResultsRecorder.outcome",
    "_call/batch_results.py:watch_batch_results",
    "_hooks/recording.py:recording_hooks.<locals>.record_sync",
    "_hooks/recording.py:recording_hooks.<locals>.record_async",
    "_hooks/recording.py:Recording.__init__",
    "_hooks/recording.py:Recording.__enter__",
    "_hooks/recording.py:Recording.__exit__",
    "_hooks/calls.py:build_request",
    "_hooks/calls.py:process_response",
    "_hooks/calls.py:should_retry",
    "_hooks/calls.py:finish_api_call_span",
    "_hooks/calls.py:body_end",
    "_hooks/results.py:_closing.<locals>.close_async",
    "_hooks/results.py:_closing.<locals>.close_sync",
    "_hooks/results.py:_quietly",
    "_hooks/results.py:parse",
    "_hooks/results.py:parse_async",
    "_hooks/runner.py:runner_loop",
    "_hooks/runner.py:runner_turn",
    "_hooks/runner.py:function_tool_call",
    "_tool_runner.py:sync_steps",
    "_tool_runner.py:async_steps",
    "_tool_runner.py:Steps._current",
    "_tool_runner.py:Steps._ended",
    "_tool_runner.py:Steps._step",
    "_tool_runner.py:_end_quietly",
    "_tool_runs.py:turn_async",
    "_tool_runs.py:run_tool_async",
    "_tool_runs.py:ToolRun.__enter__",
    "_tool_runs.py:ToolRun.__exit__",
    "_hooks/runner.py:runner_span_end",
    "_hooks/runner.py:sdk_tool_use",
    "_agent_tools.py:TimedToolUse.__enter__",
    "_agent_tools.py:TimedToolUse.__exit__",
    "_agent_tools.py:ToolTiming.content_on_span",
    "_agent_tools.py:ToolTiming.finished",
    "_call/watch.py:_Watched.__iter__",
    "_call/watch.py:_Watched.__next__",
    "_call/watch.py:_WatchedAsync.__aiter__",
    "_call/watch.py:_Watcher._seen",
    "_call/watch.py:_Watcher._ended",
    "_call/watch.py:_WatchedAsync.__anext__",
    "_call/watch.py:_finalize",
    "_call/results.py:_dropped",
    "openai_compat/_patches.py:build_request",
    "openai_compat/_patches.py:process_response",
}

# Scenarios of every kind of result, sync and async; the slow ones (timeouts) are left out.
SCENARIOS = [
    "create",
    "create-tool-use",
    "create-max-tokens-stop",
    "create-error-400",
    "create-error-429",
    "create-drop-mid-body",
    "create-retry-429-then-500-then-ok",
    "stream-create-read",
    "stream-create-tool-use",
    "stream-create-error-429",
    "stream-create-truncated",
    "stream-create-abandoned",
    "stream-create-dropped",
    "stream-helper-final-message",
    "stream-helper-abandoned",
    "raw-response",
    "raw-response-stream",
    "streaming-response-parse",
    "streaming-response-unread",
    "count-tokens",
    "batch-create-retrieve",
    "batch-results",
    "async-create",
    "async-create-error-529",
    "async-stream-create-read",
    "async-stream-abandoned",
    "async-stream-helper-final-message",
    "async-streaming-response-parse",
    "async-batch-results",
    "parse-pydantic",
]


class InjectedFault(Exception):
    """What a function of ours raises in this test."""


def site_of(code: CodeType) -> Optional[str]:
    """`file:qualified name` of a function of ours (not of the fake API), else None.

    Comprehensions and lambdas are part of the function they stand in: a fault there is one in it.
    """
    path = Path(code.co_filename)
    if PACKAGE not in path.parents or path.parts[len(PACKAGE.parts)] == "testing" or "<" in code.co_name:
        return None
    return f"{path.relative_to(PACKAGE).as_posix()}:{code.co_qualname}"


def sites_run_by(run: Callable[[], Any]) -> dict[str, CodeType]:
    """The functions of ours that run while `run()` runs, by site."""
    found: dict[str, CodeType] = {}

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            site = site_of(frame.f_code)
            if site is not None:
                found.setdefault(site, frame.f_code)

    sys.setprofile(profile)
    try:
        run()
        gc.collect()
    finally:
        sys.setprofile(None)
    return found


def injecting(code: CodeType, run: Callable[[], Any]) -> Any:
    """`run()`, with `code` raising `InjectedFault` on its first call."""

    def trace(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is code:
            sys.settrace(None)
            raise InjectedFault(code.co_qualname)

    sys.settrace(trace)  # type: ignore[arg-type]
    try:
        result = run()
        gc.collect()
        return result
    except Exception as error:  # what the application would have got
        return outcome_of_error(error)
    finally:
        sys.settrace(None)


class SpanLedger(SpanProcessor):
    """Counts the spans started and ended (ours and the SDK's), and ends of spans already ended."""

    def __init__(self) -> None:
        self.started: dict[int, str] = {}
        self.ended: dict[int, int] = {}
        self.ended_twice = 0

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        self.started[span.context.span_id] = span.name

    def on_end(self, span: ReadableSpan) -> None:
        self.ended[span.context.span_id] = self.ended.get(span.context.span_id, 0) + 1

    def problems(self) -> list[str]:
        unended = [name for span_id, name in self.started.items() if span_id not in self.ended]
        twice = [self.started.get(span_id, "?") for span_id, count in self.ended.items() if count > 1]
        return [f"not ended: {unended}"] * bool(unended) + [f"ended twice: {twice}"] * bool(twice or self.ended_twice)


class _EndedTwice(logging.Handler):
    def __init__(self, ledger: SpanLedger) -> None:
        super().__init__(logging.WARNING)
        self.ledger = ledger

    def emit(self, record: logging.LogRecord) -> None:
        if "ended span" in record.getMessage():
            self.ledger.ended_twice += 1


@pytest.fixture
def ledger(tracer_provider: TracerProvider) -> Iterator[SpanLedger]:
    ledger = SpanLedger()
    tracer_provider.add_span_processor(ledger)
    handler = _EndedTwice(ledger)
    logger = logging.getLogger("opentelemetry.sdk.trace")
    logger.addHandler(handler)
    try:
        yield ledger
    finally:
        logger.removeHandler(handler)


Replay = Callable[[], Any]


def replays(api: FakeClaudeAPI, make_client: ClientFactory) -> dict[str, Replay]:
    """What the application does, by name: the scenarios above, the tool runner, the OpenAI compatibility layer."""
    by_name = {scenario.name: scenario for scenario in catalogue()}
    found: dict[str, Replay] = {
        name: functools.partial(run_scenario, by_name[name], api, make_client) for name in SCENARIOS if name in by_name
    }
    if hasattr(anthropic, "beta_tool"):
        found["tool-runner"] = functools.partial(tool_runner, api, make_client, async_=False)
        found["async-tool-runner"] = lambda: asyncio.run(tool_runner(api, make_client, async_=True))
    for name, how in (("chat", "create"), ("chat-stream", "stream"), ("chat-error", "error")):
        found[name] = functools.partial(chat_completion, api, how)
    return found


def ask_messages() -> list[dict[str, str]]:
    return [{"role": "user", "content": "Double 21"}]


def _number(number: int) -> str:
    """Twice the number."""
    return str(number * 2)


async def _anumber(number: int) -> str:
    """Twice the number."""
    return str(number * 2)


def tool_runner(api: FakeClaudeAPI, make_client: ClientFactory, *, async_: bool) -> Any:
    """A runner with one tool: the model asks for it once, then answers."""
    api.reset()
    name = "_anumber" if async_ else "_number"
    api.queue(MessageReply(tool_uses=[ToolUse(name, {"number": 21}, id="toolu_01")]), MessageReply(text="42"))
    client = make_client(async_=async_)
    tool = anthropic.beta_async_tool(_anumber) if async_ else anthropic.beta_tool(_number)
    runner = client.beta.messages.tool_runner(
        model="claude-sonnet-4-6", max_tokens=64, messages=ask_messages(), tools=[tool]
    )
    if not async_:
        try:
            return [normalise(message) for message in runner]
        finally:
            client.close()

    async def run() -> Any:
        try:
            return [normalise(message) async for message in runner]
        finally:
            await client.close()

    return run()


def _timeless(value: Any) -> Any:
    """`value` without the `created` timestamps of chat completions, which differ from run to run."""
    if isinstance(value, dict):
        return {key: _timeless(item) for key, item in value.items() if key != "created"}
    if isinstance(value, list):
        return [_timeless(item) for item in value]
    return value


def chat_completion(api: FakeClaudeAPI, how: str) -> Any:
    """A chat completion through the `openai` SDK to the fake API's OpenAI compatibility layer."""
    api.reset()
    client = openai.OpenAI(api_key="sk-test", base_url=f"{api.base_url}/v1/", max_retries=0)
    try:
        if how == "error":
            api.queue(ErrorReply(429))
        stream = how == "stream"
        result = client.chat.completions.create(model="claude-sonnet-4-6", messages=ask_messages(), stream=stream)
        return _timeless(normalise(list(result) if stream else result))
    except Exception as error:
        return outcome_of_error(error)
    finally:
        client.close()


def _defined(site: str) -> bool:
    """Whether the function a site names still exists (a listed site that went away is to be removed)."""
    path, _, qualname = site.partition(":")
    module = importlib.import_module("anthropic_otel." + path.removesuffix(".py").replace("/", "."))
    target: Any = module
    for part in qualname.split("."):
        if part == "<locals>":
            return True  # defined inside a function: its enclosing one exists, checked above
        target = getattr(target, part, None)
        if target is None:
            return False
    return True


def test_every_listed_function_still_exists() -> None:
    assert [site for site in sorted(SITES | GUARD_SITES) if not _defined(site)] == []


def test_a_fault_in_any_function_of_ours_leaves_the_application_untouched(
    api: FakeClaudeAPI,
    make_client: ClientFactory,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
    ledger: SpanLedger,
) -> None:
    runs = replays(api, make_client)
    bare = {name: replay() for name, replay in runs.items()}
    providers = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
    instrumentors = [AnthropicInstrumentor(), OpenAICompatInstrumentor()]
    for instrumentor in instrumentors:
        instrumentor.instrument(**providers, logger_provider=logger_provider, hosts=["127.0.0.1"])
    # What exists now (the SDK, its models, the providers) lives on: frozen, each gc.collect() below
    # looks at what one replay made only (a full collection each time took half of this test's time).
    gc.collect()
    gc.freeze()
    try:
        runs_in: dict[str, list[str]] = {}
        codes: dict[str, CodeType] = {}
        for name, replay in runs.items():
            for site, code in sites_run_by(replay).items():
                runs_in.setdefault(site, []).append(name)
                codes[site] = code
        found = set(codes) - GUARD_SITES
        unlisted = "\n".join(sorted(found - SITES))
        assert not unlisted, f"functions of ours that run inside calls are not listed in SITES:\n{unlisted}"
        assert len(found) > 100, sorted(found)

        failures = []
        for site in sorted(found):
            names = runs_in[site]
            for name in names[:1]:  # the first replay it runs in: one fault per function keeps this to a minute
                ledger.__init__()  # type: ignore[misc]
                outcome = injecting(codes[site], runs[name])
                if outcome != bare[name]:
                    failures.append(f"{site} in {name}: the application saw {outcome!r}")
                failures.extend(f"{site} in {name}: {problem}" for problem in ledger.problems())
                if CURRENT.get() is not None or trace.get_current_span() is not trace.INVALID_SPAN:
                    failures.append(f"{site} in {name}: the call is still current after it")
                    CURRENT.set(None)  # so that the next sites are judged on their own
                    context.attach(Context())
    finally:
        gc.unfreeze()
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
    assert not failures, "\n".join(failures)


# Every function of ours, other than the guard sites, that runs inside an application call in the
# replays above, on some SDK version of the matrix, on either span path.
SITES = {
    "_call/batch_results.py:BatchResultsRecorder.__init__",
    "_call/batch_results.py:BatchResultsRecorder._on_message",
    "_call/batch_results.py:BatchResultsRecorder.on_item",
    "_call/batch_results.py:BatchResultsRecorder.outcome",
    "_call/batch_results.py:watch_batch_results",
    "_call/call.py:Call.__init__",
    "_call/call.py:Call.context",
    "_call/call.py:Call.once",
    "_call/call.py:enter",
    "_call/call.py:note_attempt",
    "_call/call.py:note_retry",
    "_call/end.py:_diagnose",
    "_call/end.py:_span_to_end",
    "_call/end.py:_totals",
    "_call/end.py:annotate",
    "_call/end.py:end",
    "_call/end.py:set_end_status",
    "_call/event_stream.py:watch_event_stream",
    "_call/message_stream.py:StreamRecorder.__init__",
    "_call/message_stream.py:StreamRecorder._merge_usage",
    "_call/message_stream.py:StreamRecorder._on_message_event",
    "_call/message_stream.py:StreamRecorder._sdk_time_to_first_chunk",
    "_call/message_stream.py:StreamRecorder.final_message",
    "_call/message_stream.py:StreamRecorder.on_item",
    "_call/message_stream.py:StreamRecorder.outcome",
    "_call/message_stream.py:watch_stream",
    "_call/outcome.py:Outcome.failed",
    "_call/outcome.py:ResponseHead.of",
    "_call/outcome.py:_cost",
    "_call/outcome.py:_url_attributes",
    "_call/outcome.py:call_cost",
    "_call/outcome.py:final_response",
    "_call/outcome.py:metric_points",
    "_call/outcome.py:_outcome_attributes",
    "_call/outcome.py:outcome_attributes",
    "_call/outcome.py:read",
    "_call/outcome.py:response_body",
    "_call/outcome.py:response_header_attributes",
    "_call/results.py:_watch_iterated",
    "_call/results.py:_watch_unread",
    "_call/results.py:adopt",
    "_call/results.py:closed",
    "_call/results.py:parsed",
    "_call/sdk_span.py:body_ending",
    "_call/sdk_span.py:enrich",
    "_call/start.py:_beta_header",
    "_call/start.py:_sdk_records",
    "_call/start.py:begin",
    "_call/start.py:scope_attributes",
    "_call/start.py:sent_json",
    "_call/watch.py:Recorder.__init__",
    "_call/watch.py:Recorder.finish",
    "_call/watch.py:Recorder.outcome",
    "_call/watch.py:_Watched.__init__",
    "_call/watch.py:_WatchedAsync.__init__",
    "_call/watch.py:_Watcher.__init__",
    "_call/watch.py:ChunkClock.__init__",
    "_call/watch.py:ChunkClock.per_chunk",
    "_call/watch.py:ChunkClock.tick",
    "_call/watch.py:close_watched",
    "_call/watch.py:is_stream",
    "_call/watch.py:watch",
    "_cardinality.py:ValueLimiter.admit",
    "_cardinality.py:bound_models",
    "_diagnostics/__init__.py:CallDiagnosis.__init__",
    "_diagnostics/__init__.py:CallDiagnosis.route",
    "_diagnostics/__init__.py:Diagnostics._conversation",
    "_diagnostics/__init__.py:Diagnostics._max_tokens",
    "_diagnostics/__init__.py:Diagnostics._prompt_cache",
    "_diagnostics/__init__.py:Diagnostics._rate_limited",
    "_diagnostics/__init__.py:Diagnostics.begin",
    "_diagnostics/__init__.py:Diagnostics.on_attempt",
    "_diagnostics/__init__.py:Diagnostics.on_outcome",
    "_diagnostics/__init__.py:Diagnostics.on_retry",
    "_diagnostics/beta_headers.py:known_betas",
    "_diagnostics/beta_headers.py:sdk_sent_betas",
    "_diagnostics/beta_headers.py:unknown_betas",
    "_diagnostics/conversations.py:missing_tool_result_error",
    "_diagnostics/prompt_cache.py:has_breakpoints",
    "_diagnostics/prompt_cache.py:prompt_prefix",
    "_diagnostics/rate_limits.py:FailedAttempt.retry_after",
    "_diagnostics/rate_limits.py:RateLimitWatch.attempt_sent",
    "_diagnostics/rate_limits.py:RateLimitWatch.now",
    "_diagnostics/rate_limits.py:RateLimitWatch.outcome",
    "_diagnostics/rate_limits.py:RateLimitWatch.started",
    "_diagnostics/rate_limits.py:_finding",
    "_diagnostics/rate_limits.py:failed_attempt",
    "_diagnostics/reporter.py:Reporter._report",
    "_diagnostics/reporter.py:Reporter.report",
    "_diagnostics/reporter.py:Reporter.wants",
    "_diagnostics/state.py:BoundedLRU.get",
    "_diagnostics/state.py:BoundedLRU.put",
    "_hooks/calls.py:_begin",
    "_metrics.py:Instruments._record_usage",
    "_metrics.py:Instruments._series_of",
    "_metrics.py:Instruments.record_call",
    "_metrics.py:Instruments.record_tokens",
    "_metrics.py:_Series.__init__",
    "_read/attributes.py:_defined",
    "_read/attributes.py:code_executions",
    "_read/attributes.py:_member",
    "_read/attributes.py:_table",
    "_read/attributes.py:_typed",
    "_read/attributes.py:error_type",
    "_read/attributes.py:field",
    "_read/attributes.py:int_field",
    "_read/attributes.py:ints",
    "_read/attributes.py:_int_or_none",
    "_read/attributes.py:request_attributes",
    "_read/attributes.py:response_attributes",
    "_read/attributes.py:server_attributes",
    "_read/attributes.py:url_attributes",
    "_read/attributes.py:usage_attributes",
    "_read/bodies.py:body_attributes",
    "_read/bodies.py:body_model",
    "_read/bodies.py:body_usage",
    "_read/bodies.py:usage_counts",
    "_read/chat_completions.py:_hoisted",
    "_read/chat_completions.py:_int",
    "_read/chat_completions.py:_mentions",
    "_read/chat_completions.py:dropped_features",
    "_read/chat_completions.py:request_attributes",
    "_read/chat_completions.py:response_attributes",
    "_read/chat_completions.py:usage_of",
    "_read/headers.py:_as_float",
    "_read/headers.py:_as_int",
    "_read/headers.py:_text",
    "_read/headers.py:header_attributes",
    "_read/headers.py:header_pairs",
    "_read/headers.py:ratelimit_headroom",
    "_read/operations.py:Operation.is_event_stream",
    "_read/operations.py:Operation.is_generation",
    "_read/operations.py:_path",
    "_read/operations.py:operation_for",
    "_read/operations.py:path_ids",
    "_read/pricing.py:Cost.amounts",
    "_read/pricing.py:Cost.by_category",
    "_read/pricing.py:Cost.total",
    "_read/platforms.py:priced_as",
    "_read/price_rows.py:ModelPrice.rates_for",
    "_read/price_table.py:PriceTable.lookup",
    "_read/price_table.py:_PriceList.lookup",
    "_read/price_table.py:_key_matches",
    "_read/pricing.py:_amounts",
    "_read/pricing.py:_counts",
    "_read/pricing.py:_priced",
    "_read/pricing.py:cost_of",
    "_read/request_extras.py:_number",
    "_read/request_extras.py:request_extras",
    "_read/resource_attributes.py:_string",
    "_read/resource_attributes.py:resource_request_attributes",
    "_read/resource_attributes.py:resource_response_attributes",
    "_records.py:CallLog.emit",
    "_records.py:CallLog.emit_event",
    "_records.py:CallLog.wanted",
    "_records.py:call_record",
    "_routes.py:current_conversation",
    "_routes.py:current_route",
    "_sdk.py:_platform_of_class",
    "_sdk.py:client_conversation",
    "_sdk.py:platform_of",
    "_sdk.py:provider_name",
    "_sdk.py:sdk_has_tracing",
    "_sdk.py:sdk_span_provider",
    "_sdk.py:sdk_tracing_opted_out",
    "_sdk.py:server_of",
    "_telemetry.py:Telemetry.cost",
    "_tool_runner.py:Steps.__init__",
    "_tool_runner.py:end_runner",
    "_tool_runner.py:runner_attributes",
    "_tool_runner.py:runner_run",
    "_tool_runner.py:runner_span",
    "_tool_runner.py:sdk_traces_runners",
    "_tool_runner.py:set_status",
    "_tool_runner.py:shared_attributes",
    "_tool_runs.py:ToolRun.__init__",
    "_tool_runs.py:ToolTurn.__init__",
    "_tool_runs.py:ToolTurn.take",
    "_tool_runs.py:end_tool",
    "_tool_runs.py:tool_run",
    "_tool_runs.py:turn_of",
    "_agent_tools.py:TimedToolUse.__init__",
    "_agent_tools.py:ToolTiming.__init__",
    "_agent_tools.py:tool_content_on",
    "_agent_tools.py:tool_finished",
    "_call/agent_run.py:AgentRun.__init__",
    "_call/agent_run.py:AgentRun.add",
    "_call/agent_run.py:AgentRun.finished",
    "_call/agent_run.py:AgentRun.totals",
    "_call/agent_run.py:add_call",
    "_call/agent_run.py:totals_on",
    "_totals.py:Totals.add",
    "_totals.py:Totals.update",
    "_totals.py:series_key",
    "openai_compat/_patches.py:_adopt",
    "openai_compat/_patches.py:_begin",
    "openai_compat/_start.py:begin",
    "openai_compat/_start.py:note_attempt",
    "openai_compat/_stream.py:ChunkRecorder.__init__",
    "openai_compat/_stream.py:ChunkRecorder.on_item",
    "openai_compat/_stream.py:ChunkRecorder.outcome",
    "openai_compat/_stream.py:watch_chunks",
}
