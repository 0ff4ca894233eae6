"""The instruments, and how one finished call is recorded on them.

Metrics are recorded for every call, whether or not its span is sampled: they are made from the
call's outcome, never read back from a span. Attributes stay low-cardinality (operation,
provider, models, server, error type); ids never go on a metric point.

Cache tokens get an instrument of their own, `anthropic.client.cache.tokens`
(`anthropic.cache.operation` = `read` / `write_5m` / `write_1h`), rather than extra
`gen_ai.token.type` values: semconv defines only `input` and `output`, and a dashboard that sums
`gen_ai.client.token.usage` over all token types must not count cache tokens twice (they are
already inside `input`, as semconv requires for Anthropic).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Optional

from opentelemetry.context import Context
from opentelemetry.metrics import Histogram, Meter

from anthropic_otel._read.attributes import AttributeValue
from anthropic_otel._read.bodies import UsageCounts
from anthropic_otel._read.headers import RATELIMIT_KINDS
from anthropic_otel._read.pricing import COST_CATEGORIES, Cost
from anthropic_otel._totals import MAX_SERIES, Totals, series_key

__all__ = ["DURATION_BUCKETS", "METRIC_KEYS", "TOKEN_BUCKETS", "CallMetrics", "Instruments"]

TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864)
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)

# Span attributes that are also metric attributes (semconv's list for GenAI client metrics).
METRIC_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "server.address",
    "server.port",
    "anthropic.route",
)

# The context of the points that carry no exemplar (the SDK's exemplar filter finds no span in it):
# exemplars link a call's duration (and retries) to its trace; on its token counts and time to
# first chunk they would cost a reservoir offer each and tell nothing the duration's does not.
NO_EXEMPLAR = Context()

# Attributes of cost points: what spend is charted by (model, route, batch or not).
_COST_KEYS = ("gen_ai.provider.name", "gen_ai.request.model", "anthropic.route", "anthropic.batch")
# Attributes of the headroom gauge: limits are per model and per server, nothing finer.
_HEADROOM_KEYS = ("gen_ai.provider.name", "gen_ai.request.model", "server.address")
# Values of `anthropic.cache.operation`.
CACHE_OPERATIONS = ("read", "write_5m", "write_1h")
# Values of `anthropic.server_tool.name`, and the usage field (or span attribute) each is counted from.
SERVER_TOOLS = ("web_search", "web_fetch", "code_execution")
_CODE_EXECUTIONS = "anthropic.usage.server_tool_use.code_execution_requests"


@dataclass
class CallMetrics:
    """What a finished call contributes to metrics; built by the call lifecycle, recorded here."""

    attributes: dict[str, AttributeValue]
    duration_s: float
    counts: Optional[UsageCounts] = None
    retries: int = 0
    time_to_first_chunk_s: Optional[float] = None
    outcome: Mapping[str, AttributeValue] = field(default_factory=dict)
    cost: Optional[Cost] = None
    time_per_output_chunk_s: Optional[float] = None
    headroom: Mapping[str, float] = field(default_factory=dict)  # share left of each rate limit


# The histograms of seconds (semconv's advisory buckets for durations): attribute, name, description.
_SECONDS = (
    (
        "duration",
        "gen_ai.client.operation.duration",
        "Duration of GenAI client operations (Claude API calls), retries included.",
    ),
    (
        "time_to_first_chunk",
        "gen_ai.client.operation.time_to_first_chunk",
        "Time from the call to the first content chunk of a streamed response.",
    ),
    (
        "time_per_output_chunk",
        "gen_ai.client.operation.time_per_output_chunk",
        "Mean time between output chunks of a streamed response, one point per stream.",
    ),
    (
        "invoke_agent_duration",
        "gen_ai.invoke_agent.duration",
        "Duration of tool runner loops (agent invocations), from the first step to the end.",
    ),
    ("execute_tool_duration", "gen_ai.execute_tool.duration", "Duration of tool runs inside tool runner loops."),
)
# The counters summed in process (`totals`: many points per call, no exemplars needed), and the
# headroom gauge (its last value): attribute, name (after `anthropic.client.`), unit, description.
_TOTALS = (
    ("cache_tokens", "cache.tokens", "{token}", "Prompt-cache tokens: read, or written with a 5-minute or 1-hour TTL."),
    (
        "cost",
        "cost",
        "USD",
        "What calls cost at published prices, by category (input, cache_write, cache_read, output).",
    ),
    (
        "cache_savings",
        "cache.savings",
        "USD",
        "What the prompt cache saved: cache reads priced as uncached input, minus their price.",
    ),
    (
        "server_tools",
        "server_tool.requests",
        "{request}",
        "Server tools the model used (web search, web fetch, code execution), by tool and model.",
    ),
    (
        "unpriced",
        "cost.unpriced",
        "{call}",
        "Calls whose model has no price, so no cost was recorded (add it to a price file).",
    ),
    (
        "batch_results",
        "batch.results",
        "{result}",
        "Message Batch results read, by type (succeeded, errored, canceled, expired).",
    ),
    (
        "diagnostics",
        "diagnostics",
        "{diagnostic}",
        "Calls that showed a known failure signature, by diagnostic code (see the README's checklist).",
    ),
)
_HEADROOM = "Share of the rate limit still available after the last call (0 = the next call gets a 429)."


class Instruments:
    """The instruments of one meter: made once per meter, kept for every later `instrument()` with it.

    A meter hands back the instrument it already has when one of the same name is created again,
    with the callbacks it was made with: new observable instruments (and their `Totals`) made on a
    second `instrument()` with the same meter provider would never be read. So the instruments of
    a meter are made once and shared (`of`); their totals keep counting, as cumulative counters must.
    """

    duration: Histogram
    time_to_first_chunk: Histogram
    time_per_output_chunk: Histogram
    invoke_agent_duration: Histogram
    execute_tool_duration: Histogram
    cache_tokens: Totals
    cost: Totals
    cache_savings: Totals
    server_tools: Totals
    unpriced: Totals
    batch_results: Totals
    diagnostics: Totals

    @classmethod
    def of(cls, meter: Meter) -> Instruments:
        """The instruments of `meter`, made on first use."""
        try:
            instruments = _BY_METER.get(meter)
        except TypeError:  # a meter that cannot be weakly referenced: nothing to share
            return cls(meter)
        if instruments is None:
            instruments = _BY_METER[meter] = cls(meter)
        return instruments

    def __init__(self, meter: Meter) -> None:
        self._series: dict[tuple[tuple[str, AttributeValue], ...], _Series] = {}
        for attribute, name, description in _SECONDS:
            buckets = list(DURATION_BUCKETS)
            histogram = meter.create_histogram(
                name, unit="s", description=description, explicit_bucket_boundaries_advisory=buckets
            )
            setattr(self, attribute, histogram)
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens per call; input includes cache reads and writes.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        )
        self.retries = meter.create_counter(
            "anthropic.client.retries",
            unit="{retry}",
            description="Requests the SDK sent again (retries) within calls.",
        )
        for attribute, name, unit, description in _TOTALS:
            setattr(self, attribute, Totals.counter(meter, f"anthropic.client.{name}", unit, description))
        self.ratelimit_headroom = Totals.last_value(meter, "anthropic.client.ratelimit.headroom", "1", _HEADROOM)

    def record_call(self, call: CallMetrics, context: Optional[Context] = None) -> None:
        """Record one finished call. `context` carries the span so that exemplars link to it."""
        series = self._record_usage(call.attributes, call.counts, call.cost)
        for kind, share in call.headroom.items():
            self.ratelimit_headroom.update(share, series.headroom[kind])
        self.duration.record(call.duration_s, series.attributes, context=context)
        if call.retries:
            self.retries.add(call.retries, series.attributes, context=context)
        if call.time_to_first_chunk_s is not None:
            self.time_to_first_chunk.record(call.time_to_first_chunk_s, series.attributes, context=NO_EXEMPLAR)
        if call.time_per_output_chunk_s is not None:
            self.time_per_output_chunk.record(call.time_per_output_chunk_s, series.attributes, context=NO_EXEMPLAR)
        executions = call.outcome.get(_CODE_EXECUTIONS)
        if isinstance(executions, int) and executions > 0:
            self.server_tools.update(executions, series.tools["code_execution"])

    def record_tokens(
        self, counts: UsageCounts, attributes: Mapping[str, AttributeValue], cost: Optional[Cost]
    ) -> None:
        """Token, cache and cost metrics of what one usage counts (a batch result's, a session's)."""
        self._record_usage(attributes, counts, cost)

    def _record_usage(
        self, attributes: Mapping[str, AttributeValue], counts: Optional[UsageCounts], cost: Optional[Cost]
    ) -> _Series:
        """The series of `attributes`, with the token, cache and cost metrics of `counts` recorded on it."""
        series = self._series_of(attributes)
        if counts is None:
            return series
        if cost is None:
            self.unpriced.update(1, series.unpriced)
        else:
            keys = series.cost[cost.batch]
            for category, usd in zip(COST_CATEGORIES, cost.amounts):
                if usd:
                    self.cost.update(usd, keys[category])
            if cost.cache_saving:
                self.cache_savings.update(cost.cache_saving, series.saving[cost.batch])
        for token_type, count in counts.tokens.items():
            self.token_usage.record(count, series.tokens[token_type], context=NO_EXEMPLAR)
        for operation, count in counts.cache.items():
            if count:
                self.cache_tokens.update(count, series.cache[operation])
        for tool, requests in counts.tools.items():
            self.server_tools.update(requests, series.tools[tool])
        return series

    def _series_of(self, attributes: Mapping[str, AttributeValue]) -> _Series:
        key = tuple(attributes.items())
        series = self._series.get(key)
        if series is None:
            series = _Series(attributes)
            if len(self._series) < MAX_SERIES:
                self._series[key] = series
        return series


_BY_METER: weakref.WeakKeyDictionary[Meter, Instruments] = weakref.WeakKeyDictionary()


class _Series:
    """Every attribute set one call's points go to, derived from its metric attributes.

    A call makes a dozen points (duration, two token types, cost by category, cache tokens,
    headroom by kind); building each point's attributes (and hashing them for a total) per call
    was a third of what the instrumentation cost. Metric attributes are low-cardinality, so they
    are built once per distinct set and kept (`Instruments._series`, bounded).
    """

    __slots__ = ("attributes", "cache", "cost", "headroom", "saving", "tokens", "tools", "unpriced")

    def __init__(self, attributes: Mapping[str, AttributeValue]) -> None:
        self.attributes = dict(attributes)
        tokens = {k: v for k, v in attributes.items() if k != "error.type"}
        self.tokens = {kind: {**tokens, "gen_ai.token.type": kind} for kind in ("input", "output")}
        self.cache = {op: series_key({**tokens, "anthropic.cache.operation": op}) for op in CACHE_OPERATIONS}
        scope = {key: tokens[key] for key in _COST_KEYS if key in tokens}
        self.unpriced = series_key(scope)
        self.cost = {
            batch: {
                category: series_key({**scope, "anthropic.batch": batch, "anthropic.cost.category": category})
                for category in COST_CATEGORIES
            }
            for batch in (False, True)
        }
        self.saving = {batch: series_key({**scope, "anthropic.batch": batch}) for batch in (False, True)}
        self.tools = {tool: series_key({**scope, "anthropic.server_tool.name": tool}) for tool in SERVER_TOOLS}
        headroom = {key: attributes[key] for key in _HEADROOM_KEYS if key in attributes}
        self.headroom = {kind: series_key({**headroom, "anthropic.ratelimit.type": kind}) for kind in RATELIMIT_KINDS}
