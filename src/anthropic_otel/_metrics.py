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

from anthropic_otel._read.attributes import AttributeValue, int_field, ints
from anthropic_otel._read.attributes import field as read_field
from anthropic_otel._read.pricing import COST_CATEGORIES, Cost
from anthropic_otel._totals import MAX_SERIES, Totals, series_key

__all__ = ["DURATION_BUCKETS", "TOKEN_BUCKETS", "CallMetrics", "Instruments", "ratelimit_headroom"]

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

# Rate-limit kinds the API reports in `anthropic-ratelimit-{kind}-{limit,remaining}` headers.
RATELIMIT_KINDS = ("requests", "tokens", "input_tokens", "output_tokens")
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
    usage: object = None
    retries: int = 0
    time_to_first_chunk_s: Optional[float] = None
    outcome: Mapping[str, AttributeValue] = field(default_factory=dict)
    cost: Optional[Cost] = None
    time_per_output_chunk_s: Optional[float] = None


def _seconds(meter: Meter, name: str, description: str) -> Histogram:
    """A histogram of seconds, with semconv's advisory buckets for durations."""
    return meter.create_histogram(
        name, unit="s", description=description, explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS)
    )


class Instruments:
    """The instruments of one meter: made once per meter, kept for every later `instrument()` with it.

    A meter hands back the instrument it already has when one of the same name is created again,
    with the callbacks it was made with: new observable instruments (and their `Totals`) made on a
    second `instrument()` with the same meter provider would never be read. So the instruments of
    a meter are made once and shared (`of`); their totals keep counting, as cumulative counters must.
    """

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
        self.duration = _seconds(
            meter,
            "gen_ai.client.operation.duration",
            "Duration of GenAI client operations (Claude API calls), retries included.",
        )
        self.token_usage = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Tokens per call; input includes cache reads and writes.",
            explicit_bucket_boundaries_advisory=list(TOKEN_BUCKETS),
        )
        self.time_to_first_chunk = _seconds(
            meter,
            "gen_ai.client.operation.time_to_first_chunk",
            "Time from the call to the first content chunk of a streamed response.",
        )
        self.time_per_output_chunk = _seconds(
            meter,
            "gen_ai.client.operation.time_per_output_chunk",
            "Mean time between output chunks of a streamed response, one point per stream.",
        )
        self.invoke_agent_duration = _seconds(
            meter,
            "gen_ai.invoke_agent.duration",
            "Duration of tool runner loops (agent invocations), from the first step to the end.",
        )
        self.execute_tool_duration = _seconds(
            meter, "gen_ai.execute_tool.duration", "Duration of tool runs inside tool runner loops."
        )
        self.retries = meter.create_counter(
            "anthropic.client.retries",
            unit="{retry}",
            description="Requests the SDK sent again (retries) within calls.",
        )
        # Summed in process (see `totals`): many points per call, no exemplars needed.
        self.cache_tokens = Totals.counter(
            meter,
            "anthropic.client.cache.tokens",
            unit="{token}",
            description="Prompt-cache tokens: read, or written with a 5-minute or 1-hour TTL.",
        )
        self.cost = Totals.counter(
            meter,
            "anthropic.client.cost",
            unit="USD",
            description="What calls cost at published prices, by category (input, cache_write, cache_read, output).",
        )
        self.cache_savings = Totals.counter(
            meter,
            "anthropic.client.cache.savings",
            unit="USD",
            description="What the prompt cache saved: cache reads priced as uncached input, minus their price.",
        )
        self.server_tools = Totals.counter(
            meter,
            "anthropic.client.server_tool.requests",
            unit="{request}",
            description="Server tools the model used (web search, web fetch, code execution), by tool and model.",
        )
        self.unpriced = Totals.counter(
            meter,
            "anthropic.client.cost.unpriced",
            unit="{call}",
            description="Calls whose model has no price, so no cost was recorded (add it to a price file).",
        )
        self.batch_results = Totals.counter(
            meter,
            "anthropic.client.batch.results",
            unit="{result}",
            description="Message Batch results read, by type (succeeded, errored, canceled, expired).",
        )
        self.diagnostics = Totals.counter(
            meter,
            "anthropic.client.diagnostics",
            unit="{diagnostic}",
            description="Calls that showed a known failure signature, by diagnostic code (see the README's checklist).",
        )
        self.ratelimit_headroom = Totals.last_value(
            meter,
            "anthropic.client.ratelimit.headroom",
            unit="1",
            description="Share of the rate limit still available after the last call (0 = the next call gets a 429).",
        )

    def record(self, call: CallMetrics, context: Optional[Context] = None) -> None:
        """Record one finished call. `context` carries the span so that exemplars link to it."""
        series = self._series_of(call.attributes)
        headroom = ratelimit_headroom(call.outcome)
        for kind, share in headroom.items():
            self.ratelimit_headroom.update(share, series.headroom[kind])
        self.duration.record(call.duration_s, series.attributes, context=context)
        if call.retries:
            self.retries.add(call.retries, series.attributes, context=context)
        if call.time_to_first_chunk_s is not None:
            self.time_to_first_chunk.record(call.time_to_first_chunk_s, series.attributes, context=NO_EXEMPLAR)
        if call.time_per_output_chunk_s is not None:
            self.time_per_output_chunk.record(call.time_per_output_chunk_s, series.attributes, context=NO_EXEMPLAR)
        if call.usage is not None:
            self._record_usage(series, call.usage, call.cost)
        executions = call.outcome.get(_CODE_EXECUTIONS)
        if isinstance(executions, int) and executions > 0:
            self.server_tools.update(executions, series.tools["code_execution"])

    def record_tokens(
        self, usage: object, attributes: Mapping[str, AttributeValue], cost: Optional[Cost]
    ) -> dict[str, int]:
        """Token, cache and cost metrics of one usage object (a call's, or a batch result's);
        returns the `input` and `output` token counts recorded."""
        return self._record_usage(self._series_of(attributes), usage, cost)

    def _record_usage(self, series: _Series, usage: object, cost: Optional[Cost]) -> dict[str, int]:
        if cost is None:
            self.unpriced.update(1, series.unpriced)
        else:
            keys = series.cost[cost.batch]
            for category, usd in cost.by_category().items():
                if usd:
                    self.cost.update(usd, keys[category])
            if cost.cache_saving:
                self.cache_savings.update(cost.cache_saving, series.saving[cost.batch])
        tokens, cache = usage_counts(usage)
        for token_type, count in tokens.items():
            self.token_usage.record(count, series.tokens[token_type], context=NO_EXEMPLAR)
        for operation, count in cache.items():
            if count:
                self.cache_tokens.update(count, series.cache[operation])
        tools = read_field(usage, "server_tool_use")
        if tools is not None:
            for tool in ("web_search", "web_fetch"):
                requests = int_field(tools, f"{tool}_requests")
                if requests:
                    self.server_tools.update(requests, series.tools[tool])
        return tokens

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


_CACHE_SPLIT = ("ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens")


def usage_counts(usage: object) -> tuple[dict[str, int], dict[str, int]]:
    """The token counts of a usage object, its fields read once: `input` (uncached + cache read +
    cache write) and `output` tokens; and cache reads and writes by TTL (writes without the 5m/1h
    split count as 5-minute writes)."""
    uncached, read_count, written_count, output = ints(
        usage, "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"
    )
    tokens: dict[str, int] = {}
    if uncached is not None:
        tokens["input"] = max(0, uncached + (read_count or 0) + (written_count or 0))
    if output is not None:
        tokens["output"] = max(0, output)
    read, written = max(0, read_count or 0), max(0, written_count or 0)
    split = read_field(usage, "cache_creation")
    one_hour, five_minutes = (None, None) if split is None else ints(split, *_CACHE_SPLIT)
    if one_hour is None and five_minutes is None:
        return tokens, {"read": read, "write_5m": written, "write_1h": 0}
    return tokens, {"read": read, "write_5m": max(0, five_minutes or 0), "write_1h": max(0, one_hour or 0)}


def ratelimit_headroom(attributes: Mapping[str, object]) -> dict[str, float]:
    """Remaining share (0..1) of each rate limit, from a call's `anthropic.ratelimit.*` attributes."""
    shares: dict[str, float] = {}
    for kind, limit_key, remaining_key in _RATELIMIT_KEYS:
        limit = attributes.get(limit_key)
        remaining = attributes.get(remaining_key)
        if isinstance(limit, int) and isinstance(remaining, int) and limit > 0:
            shares[kind] = min(max(remaining / limit, 0.0), 1.0)
    return shares


_RATELIMIT_KEYS = tuple(
    (kind, f"anthropic.ratelimit.{kind}.limit", f"anthropic.ratelimit.{kind}.remaining") for kind in RATELIMIT_KINDS
)
