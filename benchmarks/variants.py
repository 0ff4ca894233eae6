"""The configurations the overhead benchmark switches on and off.

A variant is a client (which of the SDK's own tracing states it is in), a switch (a context
manager that instruments, and undoes it on exit) and its proof: how many of the spans ended in
its warm-up show it recorded a call (a span of its own scope, or, for the floor, a pass through
the floor's wrapper). `proofs.py` holds what checks it off again; a variant that fails either, or
raises, is reported broken and left out of the rounds after, the others going on.

The peers are the other instrumentations of the SDK, run when installed, with their defaults
(content capture included, where that is their default) and our tracer and meter providers.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Optional

import anthropic
import anthropic._base_client
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from proofs import TRACER_PROVIDER
from workload import ASK, in_process_client
from wrapt import wrap_function_wrapper

from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._metrics import Instruments
from anthropic_otel._sdk import sdk_has_tracing, sdk_span_provider

OURS = "anthropic_otel"
FLOOR = "floor"
# The instrumentation scope of the SDK's own spans (1.14+).
SDK_SCOPE = "com.anthropic.sdk.python"
if sdk_has_tracing():
    SDK_SCOPE = getattr(importlib.import_module("anthropic._tracing"), "INSTRUMENTATION_SCOPE", SDK_SCOPE)
# The key anthropic-otel adds to the SDK's span that the SDK never sets itself.
ENRICHED = "anthropic.cost.usd"


def meter_provider() -> MeterProvider:
    """Metrics aggregated by the SDK, read by nobody (as between two exports)."""
    return MeterProvider(metric_readers=[InMemoryMetricReader()])


@dataclass
class Variant:
    """One configuration: `key` names it in the tables, `base` is the variant its cost is added to."""

    key: str
    label: str
    options: dict[str, Any]  # the client's, which say what the SDK's own tracing does
    base: Optional[str]
    switch: Callable[[], AbstractContextManager[Any]] = nullcontext
    # How many of the spans ended in the warm-up prove this variant recorded a call (None: it records none).
    proof: Optional[Callable[[Sequence[ReadableSpan]], int]] = None
    batch: bool = False  # whether it reads batch results (the peers do not instrument batches)
    broken: Optional[str] = None


def spans_of(scope: Optional[str], enriched: Optional[bool] = None) -> Callable[[Sequence[ReadableSpan]], int]:
    """Counts the spans of instrumentation scope `scope`; with `enriched`, only those with (or without) ours on."""

    def count(spans: Sequence[ReadableSpan]) -> int:
        return sum(
            1
            for span in spans
            if span.instrumentation_scope is not None
            and span.instrumentation_scope.name == scope
            and (enriched is None or (ENRICHED in (span.attributes or {})) == enriched)
        )

    return count


# One meter provider per instrumentation, kept across its rounds (as an application keeps one).
_METERS: dict[str, MeterProvider] = {}


@contextmanager
def ours() -> Iterator[None]:
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=TRACER_PROVIDER, meter_provider=_METERS.setdefault(OURS, meter_provider()))
    try:
        yield
    finally:
        instrumentor.uninstrument()


class _StartAttributes(SpanProcessor):
    """Keeps each span's attributes as they were when it started."""

    def __init__(self) -> None:
        self.at_start: list[dict[str, Any]] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.at_start.append(dict(span.attributes or {}))


def one_call_telemetry(client_options: dict[str, Any]) -> dict[str, Any]:
    """What anthropic-otel records for one benchmark call on its own span, captured from a real
    instrumented call: its span's name and attributes (at start, and added at the end) and its
    histogram points'."""
    starts = _StartAttributes()
    spans = TracerProvider()
    spans.add_span_processor(starts)
    exporter = InMemorySpanExporter()
    spans.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=spans, meter_provider=MeterProvider(metric_readers=[reader]))
    try:
        in_process_client(**client_options).messages.create(**ASK)
    finally:
        instrumentor.uninstrument()
    (span,) = exporter.get_finished_spans()
    start = starts.at_start[0]
    points: dict[str, list[dict[str, Any]]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points[metric.name] = [dict(point.attributes or {}) for point in metric.data.data_points]
    return {
        "name": span.name,
        "start": start,
        "end": {key: value for key, value in (span.attributes or {}).items() if key not in start},
        "duration": points["gen_ai.client.operation.duration"][0],
        "tokens": points["gen_ai.client.token.usage"],
    }


class Floor:
    """The OpenTelemetry SDK's own work for one call's telemetry, and nothing else: the span
    anthropic-otel makes (same name, same attributes at start and at end, current during the call)
    and its three histogram measurements (duration, input and output tokens, exemplars linked),
    all prepared beforehand. Current during the call where anthropic-otel makes its span current
    (SDKs before 1.14). On the SDK's own span (1.14+), just the three measurements. What
    anthropic-otel costs beyond this is its own work: reading the call."""

    def __init__(self, telemetry: dict[str, Any]) -> None:
        self.telemetry = telemetry
        self.tracer = TRACER_PROVIDER.get_tracer(FLOOR)
        # The very instruments anthropic-otel records on (same names, units and buckets).
        instruments = Instruments.of(meter_provider().get_meter(FLOOR))
        self.duration, self.tokens = instruments.duration, instruments.token_usage
        self.records = 0
        self.current = not sdk_has_tracing()

    def request(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        telemetry = self.telemetry
        if sdk_span_provider(instance) is not None:
            result = wrapped(*args, **kwargs)
            context = None
        else:
            span = self.tracer.start_span(telemetry["name"], kind=SpanKind.CLIENT, attributes=telemetry["start"])
            context = trace.set_span_in_context(span)
            token = otel_context.attach(context) if self.current else None
            try:
                result = wrapped(*args, **kwargs)
            finally:
                if token is not None:
                    otel_context.detach(token)
            span.set_attributes(telemetry["end"])
            span.set_status(_OK)
            span.end()
        self.duration.record(0.1, telemetry["duration"], context=context)
        for attributes in telemetry["tokens"]:
            self.tokens.record(100, attributes, context=context)
        self.records += 1
        return result

    @contextmanager
    def on(self) -> Iterator[None]:
        self.records = 0
        wrap_function_wrapper("anthropic._base_client", "SyncAPIClient.request", self.request)
        try:
            yield
        finally:
            unwrap(anthropic._base_client.SyncAPIClient, "request")

    def proof(self, spans: Sequence[ReadableSpan]) -> int:
        return self.records


_OK = Status(StatusCode.OK)


# -- peers ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Peer:
    key: str
    label: str
    distribution: str
    module: str
    scope: str
    also: tuple[str, ...] = ()  # distributions it needs, whose versions the report shows


PEERS = (
    Peer(
        "contrib",
        "official contrib",
        "opentelemetry-instrumentation-genai-anthropic",
        "opentelemetry.instrumentation.genai.anthropic",
        "opentelemetry.instrumentation.genai.anthropic",
        also=("opentelemetry-util-genai",),
    ),
    Peer(
        "openinference",
        "OpenInference",
        "openinference-instrumentation-anthropic",
        "openinference.instrumentation.anthropic",
        "openinference.instrumentation.anthropic",
    ),
    Peer(
        "openllmetry",
        "OpenLLMetry",
        "opentelemetry-instrumentation-anthropic",
        "opentelemetry.instrumentation.anthropic",
        "opentelemetry.instrumentation.anthropic",
    ),
)


def version_of(distribution: str) -> Optional[str]:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def peer_versions(peer: Peer) -> str:
    return ", ".join(f"{name} {version_of(name)}" for name in (peer.distribution, *peer.also))


def peer_switch(peer: Peer) -> Callable[[], AbstractContextManager[None]]:
    """Instruments with `peer` (its defaults, our providers) and uninstruments it on exit.

    A peer whose declared range excludes this SDK is not instrumented by OpenTelemetry's
    dependency check; the switch raises with the conflict, so the report says why."""
    instrumentor = importlib.import_module(peer.module).AnthropicInstrumentor()
    conflict = get_dependency_conflicts(instrumentor.instrumentation_dependencies())

    @contextmanager
    def switch() -> Iterator[None]:
        if conflict is not None:
            raise RuntimeError(f"not instrumented: {conflict}")
        instrumentor.instrument(
            tracer_provider=TRACER_PROVIDER, meter_provider=_METERS.setdefault(peer.key, meter_provider())
        )
        try:
            yield
        finally:
            instrumentor.uninstrument()

    return switch


# -- the table of variants -----------------------------------------------------------------------
def build(peers: Sequence[Peer]) -> list[Variant]:
    """Every variant this SDK and the installed `peers` allow, bare first."""
    has_tracing = sdk_has_tracing()
    off: dict[str, Any] = {"max_retries": 0}
    # On SDKs with tracing of their own (1.14+): no tracer provider anywhere (the SDK's tracing runs
    # on OpenTelemetry's no-op spans), and anthropic-otel makes its own span, as on SDKs before 1.14.
    own = dict(off)
    if has_tracing:
        off["open_telemetry"] = False
    floor = Floor(one_call_telemetry(own))
    variants = [Variant("bare", "bare SDK" + (" (its tracing off)" if has_tracing else ""), off, None, batch=True)]
    own_base = "bare"
    if has_tracing:
        variants.append(Variant("bare-noop", "bare SDK (its tracing on no-op spans)", own, "bare", batch=True))
        own_base = "bare-noop"
    variants += [
        Variant("floor", "floor: OpenTelemetry calls only, own span", own, own_base, floor.on, floor.proof),
        Variant("ours", "anthropic-otel, own span", own, own_base, ours, spans_of(OURS), batch=True),
    ]
    if has_tracing:
        sdk = {"max_retries": 0, "open_telemetry": {"tracer_provider": TRACER_PROVIDER}}
        variants += [
            Variant("sdk", "SDK's own tracing", sdk, "bare", proof=spans_of(SDK_SCOPE, enriched=False), batch=True),
            Variant("sdk-floor", "floor on the SDK's span (3 histograms)", sdk, "sdk", floor.on, floor.proof),
            Variant(
                "sdk-ours", "anthropic-otel on the SDK's span", sdk, "sdk", ours, spans_of(SDK_SCOPE, True), batch=True
            ),
        ]
    for peer in peers:
        variant = Variant(peer.key, peer.label, off, "bare", proof=spans_of(peer.scope))
        try:
            variant.switch = peer_switch(peer)
        except Exception as error:  # an import that fails on this SDK
            variant.broken = f"cannot load: {type(error).__name__}: {error}"
        variants.append(variant)
    return variants


def installed_peers() -> list[Peer]:
    return [peer for peer in PEERS if version_of(peer.distribution) is not None]
