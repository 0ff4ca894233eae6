"""One run of the tool runner (`invoke_agent`): what its model calls spent, summed, and how long it took.

The runner's loop runs its steps with the run current (`RUN`, a contextvar set around each step by
the hooks on `__run__`), so a model call made in a step belongs to the run: `start.begin` notes it
on the call, and the call's end adds its tokens and cost here (`add_call`), whether the application
reads its stream inside the step or after. The run's span gets the totals as semconv's usage
attributes (`gen_ai.usage.input_tokens`, cache reads and writes included, and
`gen_ai.usage.output_tokens`) and `anthropic.cost.usd` (only when every call of the run was priced):
our span on SDKs before 1.14, the SDK's own after (`totals_on`, just before the SDK ends it).
`gen_ai.invoke_agent.duration` is recorded for every run, whichever span there is, if any.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Optional

from opentelemetry.trace import Span

from anthropic_otel._call.call import Call
from anthropic_otel._read.attributes import Attributes, AttributeValue
from anthropic_otel._read.bodies import UsageCounts
from anthropic_otel._read.pricing import Cost
from anthropic_otel._telemetry import Telemetry

__all__ = ["RUN", "AgentRun", "add_call", "totals_on"]

# The run whose steps are running, for the model calls made in them.
RUN: ContextVar[Optional[AgentRun]] = ContextVar("anthropic_otel_agent_run", default=None)
_POINT_KEYS = ("gen_ai.provider.name", "gen_ai.request.model", "anthropic.route")


class AgentRun:
    """The totals of one runner loop, from its first step to its end."""

    __slots__ = ("attributes", "calls", "cost", "input_tokens", "output_tokens", "start_s", "telemetry", "unpriced")

    def __init__(self, telemetry: Telemetry, attributes: Attributes) -> None:
        self.telemetry = telemetry
        self.attributes = attributes
        self.start_s = time.perf_counter()
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost = 0.0
        self.unpriced = False

    def add(self, tokens: Mapping[str, int], cost: Optional[Cost]) -> None:
        """One model call of the run ended, having spent `tokens` (`input`, cache included, and `output`)
        at `cost` (None: unpriced)."""
        self.calls += 1
        self.input_tokens += tokens.get("input", 0)
        self.output_tokens += tokens.get("output", 0)
        if cost is None:
            self.unpriced = True
        else:
            self.cost += cost.total

    def totals(self) -> Attributes:
        """Semconv's usage attributes of the run, and its cost if every call had one."""
        totals: Attributes = {
            "gen_ai.usage.input_tokens": self.input_tokens,
            "gen_ai.usage.output_tokens": self.output_tokens,
        }
        if self.calls and not self.unpriced:
            totals["anthropic.cost.usd"] = self.cost
        return totals

    def finished(self, error_type: Optional[str]) -> None:
        """The loop ended (`error_type` if it failed): `gen_ai.invoke_agent.duration`."""
        telemetry = self.telemetry
        points: dict[str, AttributeValue] = {key: self.attributes[key] for key in _POINT_KEYS if key in self.attributes}
        points["gen_ai.operation.name"] = "invoke_agent"
        model = points.get("gen_ai.request.model")
        if isinstance(model, str):
            points["gen_ai.request.model"] = telemetry.models.admit(model)
        if error_type is not None:
            points["error.type"] = telemetry.error_types.admit(error_type)
        telemetry.instruments.invoke_agent_duration.record(time.perf_counter() - self.start_s, points)


def add_call(call: Call, counts: Optional[UsageCounts], cost: Optional[Cost]) -> None:
    """A model call made inside a run ended, having spent `counts` at `cost`: into the run's totals."""
    run = call.run
    if run is not None and call.operation.is_generation:
        run.add(counts.tokens if counts is not None else {}, cost)


def totals_on(span: Optional[Span], run: Optional[AgentRun]) -> None:
    """Put the totals of `run` on `span` (still open), if it records."""
    if span is not None and run is not None and span.is_recording():
        span.set_attributes(run.totals())
