"""End to end: instrumented SDK -> OTLP/HTTP -> collector -> Jaeger + Prometheus, for real.

Run by scripts/stack-e2e, which starts the servers with the deploy/ configs and passes:

    ANTHROPIC_OTEL_STACK=1
    ANTHROPIC_OTEL_STACK_OTLP_HTTP         collector OTLP/HTTP base URL
    ANTHROPIC_OTEL_STACK_PROMETHEUS        Prometheus base URL
    ANTHROPIC_OTEL_STACK_JAEGER            Jaeger query (HTTP API) base URL
    ANTHROPIC_OTEL_STACK_SCRAPE_INTERVAL   deploy/prometheus.yml's scrape_interval (e.g. 15s)

A workload of real `anthropic` SDK calls against the fake Claude API (successes with prompt
caching inside an `anthropic_otel.route`, streams, a 429 absorbed by a retry, a 429 and a 529
that fail) runs twice, one scrape apart, so that every rate() has two samples. Then:

* Prometheus has the series under the names the dashboards and rules use, with exemplars whose
  trace ids are traces in Jaeger;
* Jaeger finds each call's trace by the `anthropic.request.id` tag, also through the dashboard's
  request-id link (its URL turned into the same query on Jaeger's API);
* EVERY PromQL query of EVERY panel of grafana/dashboards/*.json returns data, with Grafana's
  variables substituted ($__rate_interval -> 4 x scrape interval, $__range -> 1h, $service ->
  this run's service, $model / $route -> `.*`), evaluated at the scrape that saw the second
  round. The only exceptions are the panels named in PANELS_WAITING_FOR_METRICS, each waiting
  for a metric of PENDING_METRICS that the instrumentation does not define yet; their queries
  must return data with an emitted stand-in metric instead;
* the rules of deploy/alerts.yml are loaded and evaluate without error, and every alert
  rule's expression has data component by component: the expression is split at its
  top-level comparison (`>`, `<`, ...) and set (`and`, `or`, `unless`) operators, every
  operand that is not a number is evaluated on its own, with its `offset ...` removed
  (yesterday's / last week's baselines cannot have data in a fresh Prometheus). The
  recording rule must have produced a series.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("ANTHROPIC_OTEL_STACK") != "1":
    pytest.skip(
        "end-to-end stack test: run scripts/stack-e2e (needs ANTHROPIC_OTEL_STACK=1 and the servers)",
        allow_module_level=True,
    )

import anthropic
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI, MessageReply

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
ALERTS_FILE = ROOT / "deploy" / "alerts.yml"
DATASOURCES_FILE = ROOT / "grafana" / "provisioning" / "datasources" / "datasources.yaml"

SONNET = "claude-sonnet-5-5"
HAIKU = "claude-haiku-5-5"
ROUTE = "e2e-summarize"
API_KEY = "sk-ant-api03-stack-e2e-0123456789"
MESSAGE_CALLS_PER_ROUND = 9  # each with a request id the test looks up in Jaeger
CALLS_PER_ROUND = MESSAGE_CALLS_PER_ROUND + 3  # and a batch: create, then results (retrieve + results)

# The Prometheus names of the instrumentation's metrics, as the collector's prometheus exporter
# writes them (OpenTelemetry name -> Prometheus name(s)).
EXPECTED_NAMES = {
    "gen_ai.client.operation.duration": [
        "gen_ai_client_operation_duration_seconds_bucket",
        "gen_ai_client_operation_duration_seconds_sum",
        "gen_ai_client_operation_duration_seconds_count",
    ],
    "gen_ai.client.token.usage": [
        "gen_ai_client_token_usage_bucket",
        "gen_ai_client_token_usage_sum",
        "gen_ai_client_token_usage_count",
    ],
    "gen_ai.client.operation.time_to_first_chunk": [
        "gen_ai_client_operation_time_to_first_chunk_seconds_bucket",
        "gen_ai_client_operation_time_to_first_chunk_seconds_sum",
        "gen_ai_client_operation_time_to_first_chunk_seconds_count",
    ],
    "anthropic.client.cache.tokens": ["anthropic_client_cache_tokens_total"],
    "anthropic.client.retries": ["anthropic_client_retries_total"],
    "anthropic.client.cost": ["anthropic_client_cost_USD_total"],
    "anthropic.client.cache.savings": ["anthropic_client_cache_savings_USD_total"],
    "anthropic.client.ratelimit.headroom": ["anthropic_client_ratelimit_headroom_ratio"],
    "anthropic.client.batch.results": ["anthropic_client_batch_results_total"],
    "anthropic.client.diagnostics": ["anthropic_client_diagnostics_total"],
}

# Metrics that the dashboards already chart but that the instrumentation does not define yet (their
# issues name them): OpenTelemetry name -> (the Prometheus name the dashboards use, a stand-in).
# "Not defined yet" means the name appears nowhere in the anthropic_otel package; once it does, the
# metric is checked like those above (it must reach Prometheus from the workload and its panels must
# return data) and the entry has to move to EXPECTED_NAMES. Until then a waiting panel's query, with
# the pending name replaced by the stand-in (an emitted counter with the same job label), must
# return data, so that a broken selector or function fails now, not when the metric lands.
PENDING_METRICS: dict[str, tuple[str, str]] = {}

# The only panels allowed to return no data: panel title -> the pending metric it waits for.
# Every other panel query without data fails the test, and so does an entry here that names no
# panel, or a panel whose queries do not use the metric it waits for.
PANELS_WAITING_FOR_METRICS: dict[str, str] = {}


def _instrumentation_defines(otel_name: str) -> bool:
    """Whether the anthropic_otel package's source names the metric (i.e. it is emitted now)."""
    package = Path(anthropic_otel.__file__).parent
    return any(f'"{otel_name}"' in path.read_text() for path in package.rglob("*.py"))


# ------------------------------------------------------------------------------------ HTTP helpers
def _get_json(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read().decode())


@dataclass
class Stack:
    otlp_http: str
    prometheus: str
    jaeger: str
    scrape_interval_s: float

    def prom(self, path: str, **params: Any) -> Any:
        url = f"{self.prometheus}{path}?{urllib.parse.urlencode(params)}"
        body = _get_json(url)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self.prom("/api/v1/query", **params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def jaeger_api(self, path_and_query: str) -> Any:
        return _get_json(f"{self.jaeger}{path_and_query}")


def _parse_duration(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", text):
        total += float(number) * units[unit]
    assert total > 0, f"cannot parse duration {text!r}"
    return total


def _finite_samples(result: list[dict[str, Any]]) -> list[float]:
    values = [float(sample["value"][1]) for sample in result]
    return [v for v in values if math.isfinite(v)]


def _wait_for(what: str, probe: Any, timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


# ------------------------------------------------------------------------------------ the workload
@dataclass
class Workload:
    service: str
    at: float  # evaluation time: the scrape that saw the second round
    request_ids: dict[str, str] = field(default_factory=dict)  # request id -> trace id (hex)
    failed_request_id: str = ""


def _one_round(api: FakeClaudeAPI, request_ids: dict[str, str]) -> str:
    """CALLS_PER_ROUND calls covering every metric; returns the request id of the failed 429."""
    plain = anthropic.Anthropic(base_url=api.base_url, api_key=API_KEY, max_retries=0)
    retrying = anthropic.Anthropic(base_url=api.base_url, api_key=API_KEY, max_retries=2)
    messages = [{"role": "user", "content": "Summarise the release notes."}]
    cached_usage = {
        "input_tokens": 120,
        "output_tokens": 40,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 300,
    }
    # 3 successful sonnet calls reading from and writing to the prompt cache, inside a route
    # (anthropic_otel.route, issue 5) when the instrumentation has it: anthropic_route label
    route = getattr(anthropic_otel, "route", None)
    with route(ROUTE) if route is not None else contextlib.nullcontext():
        for i in range(3):
            api.queue(MessageReply(text=f"answer {i}", usage=cached_usage))
            message = plain.messages.create(model=SONNET, max_tokens=256, messages=messages)
            request_ids[message._request_id] = ""
    # 1 sonnet + 1 haiku stream (time to first chunk)
    for model in (SONNET, HAIKU):
        api.queue(MessageReply(text="streamed answer in several words", usage={"input_tokens": 50, "output_tokens": 7}))
        stream = plain.messages.create(model=model, max_tokens=256, messages=messages, stream=True)
        for _ in stream:
            pass
        request_ids[stream.response.headers["request-id"]] = ""
    # 1 plain haiku call, cut off at max_tokens (diagnostic max_tokens_reached)
    api.queue(MessageReply(text="short", stop_reason="max_tokens", usage={"input_tokens": 30, "output_tokens": 5}))
    message = plain.messages.create(model=HAIKU, max_tokens=64, messages=messages)
    request_ids[message._request_id] = ""
    # 1 sonnet call whose 429 the SDK absorbs with a retry (anthropic.client.retries)
    api.queue(
        ErrorReply(429, retry_after=0), MessageReply(text="after retry", usage={"input_tokens": 60, "output_tokens": 9})
    )
    message = retrying.messages.create(model=SONNET, max_tokens=64, messages=messages)
    request_ids[message._request_id] = ""
    # 1 sonnet call failing with 429 (error.type rate_limit_error), 1 haiku with 529 (overloaded_error)
    api.queue(ErrorReply(429, retry_after=0))
    with pytest.raises(anthropic.RateLimitError) as rate_limited:
        plain.messages.create(model=SONNET, max_tokens=64, messages=messages)
    api.queue(ErrorReply(529, retry_after=0))
    with pytest.raises(anthropic.APIStatusError):
        plain.messages.create(model=HAIKU, max_tokens=64, messages=messages)
    failed = rate_limited.value.request_id or ""
    if failed:
        request_ids[failed] = ""
    # a batch of 3, one of them errored (anthropic.client.batch.results by type)
    requests: Any = [
        {
            "custom_id": f"ticket-{n}",
            "params": {
                "model": HAIKU,
                "max_tokens": 16,
                "messages": messages,
                "metadata": {"fake_result": "errored" if n == 2 else "succeeded"},
            },
        }
        for n in range(3)
    ]
    batch = plain.messages.batches.create(requests=requests)
    assert [item.result.type for item in plain.messages.batches.results(batch.id)] == [
        "succeeded",
        "succeeded",
        "errored",
    ]
    return failed


def _calls_seen(stack: Stack, service: str) -> float:
    result = stack.query(f'sum(gen_ai_client_operation_duration_seconds_count{{job="{service}"}})')
    return float(result[0]["value"][1]) if result else 0.0


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(
        otlp_http=os.environ["ANTHROPIC_OTEL_STACK_OTLP_HTTP"].rstrip("/"),
        prometheus=os.environ["ANTHROPIC_OTEL_STACK_PROMETHEUS"].rstrip("/"),
        jaeger=os.environ["ANTHROPIC_OTEL_STACK_JAEGER"].rstrip("/"),
        scrape_interval_s=_parse_duration(os.environ.get("ANTHROPIC_OTEL_STACK_SCRAPE_INTERVAL", "15s")),
    )


@pytest.fixture(scope="module")
def workload(stack: Stack) -> Iterator[Workload]:
    service = f"anthropic-otel-e2e-{uuid.uuid4().hex[:8]}"
    resource = Resource.create({"service.name": service, "service.instance.id": "e2e-1"})
    memory = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{stack.otlp_http}/v1/traces")))
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{stack.otlp_http}/v1/metrics"), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    instrumentor = AnthropicInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    request_ids: dict[str, str] = {}
    # Everything Prometheus needs must be seen by at least one scrape, twice.
    wait = 4 * stack.scrape_interval_s + 15
    try:
        with FakeClaudeAPI() as api:
            failed = _one_round(api, request_ids)
            assert meter_provider.force_flush(10_000)
            _wait_for(
                "Prometheus to scrape the first round",
                lambda: _calls_seen(stack, service) >= CALLS_PER_ROUND,
                wait,
            )
            _one_round(api, request_ids)
            assert meter_provider.force_flush(10_000)
            _wait_for(
                "Prometheus to scrape the second round",
                lambda: _calls_seen(stack, service) >= 2 * CALLS_PER_ROUND,
                wait,
            )
            at = time.time()
            assert tracer_provider.force_flush(10_000)
    finally:
        instrumentor.uninstrument()
    for span in memory.get_finished_spans():
        request_id = (span.attributes or {}).get("anthropic.request.id")
        if isinstance(request_id, str) and request_id in request_ids:
            request_ids[request_id] = format(span.context.trace_id, "032x")
    yield Workload(service=service, at=at, request_ids=request_ids, failed_request_id=failed)
    meter_provider.shutdown()
    tracer_provider.shutdown()


# ------------------------------------------------------------------------------------ metric names
def test_prometheus_has_the_metric_names_the_dashboards_use(stack: Stack, workload: Workload) -> None:
    names = set(stack.prom("/api/v1/label/__name__/values", **{"match[]": f'{{job="{workload.service}"}}'}))
    print(f"\nPrometheus names for job={workload.service}: {sorted(names)}")
    missing = {otel: [n for n in prom if n not in names] for otel, prom in EXPECTED_NAMES.items()}
    assert not {k: v for k, v in missing.items() if v}, f"missing Prometheus names: {missing}; present: {sorted(names)}"
    dashboards_text = "".join(path.read_text() for path in DASHBOARDS)
    for otel, (prom_name, _) in PENDING_METRICS.items():
        assert prom_name in dashboards_text, f"no dashboard uses {prom_name} ({otel})"
        family = prom_name.removesuffix("_total")
        misnamed = sorted(n for n in names if n.startswith(family) and n != prom_name)
        assert not misnamed, f"{otel} reaches Prometheus as {misnamed}, the dashboards query {prom_name}"
        if _instrumentation_defines(otel):
            pytest.fail(
                f"the instrumentation now emits {otel}: make the workload produce it, move it from "
                f"PENDING_METRICS to EXPECTED_NAMES and its panels out of PANELS_WAITING_FOR_METRICS"
            )
        print(f"{otel} -> {prom_name}: not emitted yet")
    cost_labels = {
        name
        for series in stack.prom(
            "/api/v1/series", **{"match[]": f'anthropic_client_cost_USD_total{{job="{workload.service}"}}'}
        )
        for name in series
    }
    assert {"gen_ai_request_model", "anthropic_cost_category", "anthropic_route"} <= cost_labels, cost_labels


def test_prometheus_labels_are_the_translated_attributes(stack: Stack, workload: Workload) -> None:
    def label_values(label: str, metric: str) -> set[str]:
        return set(stack.prom(f"/api/v1/label/{label}/values", **{"match[]": f'{metric}{{job="{workload.service}"}}'}))

    duration = "gen_ai_client_operation_duration_seconds_count"
    series = stack.prom("/api/v1/series", **{"match[]": f'{duration}{{job="{workload.service}"}}'})
    print(f"\nlabels of {duration}: {sorted({name for s in series for name in s})}")
    assert label_values("gen_ai_request_model", duration) == {SONNET, HAIKU}
    assert label_values("gen_ai_operation_name", duration) == {
        "chat",
        "batches.create",
        "batches.retrieve",
        "batches.results",
    }
    assert label_values("gen_ai_provider_name", duration) == {"anthropic"}
    assert {"rate_limit_error", "overloaded_error"} <= label_values("error_type", duration)
    assert label_values("server_address", duration)
    assert label_values("gen_ai_token_type", "gen_ai_client_token_usage_sum") == {"input", "output"}
    assert {"read", "write_5m"} <= label_values("anthropic_cache_operation", "anthropic_client_cache_tokens_total")
    assert label_values("anthropic_cost_category", "anthropic_client_cost_USD_total") >= {
        "input",
        "cache_write",
        "cache_read",
        "output",
    }
    assert label_values("anthropic_ratelimit_type", "anthropic_client_ratelimit_headroom_ratio")
    if hasattr(anthropic_otel, "route"):
        assert ROUTE in label_values("anthropic_route", duration)
        assert ROUTE in label_values("anthropic_route", "anthropic_client_cost_USD_total")
    # service.instance.id -> instance, kept by honor_labels
    assert label_values("instance", duration) == {"e2e-1"}


# ------------------------------------------------------------------------------------ traces
def _jaeger_traces_by_request_id(stack: Stack, service: str, request_id: str) -> list[dict[str, Any]]:
    tags = json.dumps({"anthropic.request.id": request_id})
    query = urllib.parse.urlencode({"service": service, "tags": tags, "limit": 20})
    return list(stack.jaeger_api(f"/api/traces?{query}").get("data") or [])


def _trace_id(trace: dict[str, Any]) -> str:
    """Jaeger drops leading zeros of trace ids; ours are 32 hex digits."""
    return str(trace["traceID"]).rjust(32, "0")


def _span_tags(span: dict[str, Any]) -> dict[str, Any]:
    return {tag["key"]: tag["value"] for tag in span.get("tags", [])}


def test_jaeger_finds_each_call_by_request_id(stack: Stack, workload: Workload) -> None:
    assert len(workload.request_ids) >= 2 * (MESSAGE_CALLS_PER_ROUND - 1), workload.request_ids
    assert all(workload.request_ids.values()), f"calls without a span carrying their request id: {workload.request_ids}"
    failed = (workload.failed_request_id, workload.request_ids.get(workload.failed_request_id, ""))
    sample = [*list(workload.request_ids.items())[:4], failed]
    for request_id, trace_id in sample:
        assert request_id, "the failed call has no request id"
        traces = _wait_for(
            f"Jaeger to find anthropic.request.id={request_id}",
            lambda rid=request_id: _jaeger_traces_by_request_id(stack, workload.service, rid),
            timeout=30,
        )
        assert [_trace_id(t) for t in traces] == [trace_id]
        spans = [s for s in traces[0]["spans"] if _span_tags(s).get("anthropic.request.id") == request_id]
        assert len(spans) == 1
    failed_trace = _jaeger_traces_by_request_id(stack, workload.service, workload.failed_request_id)[0]
    failed_tags = _span_tags(failed_trace["spans"][0])
    assert failed_tags.get("error.type") == "rate_limit_error", failed_tags


def _grafana_format(value: str, fmt: str | None) -> str:
    if fmt == "percentencode":
        return urllib.parse.quote(value, safe="-_.~")
    return value


def _interpolate(text: str, variables: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        fmt = match.group(2)
        assert name in variables, f"unknown variable ${name} in {text!r}"
        return _grafana_format(variables[name], fmt)

    return re.sub(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)", replace, text)


def test_dashboard_request_id_links_find_the_trace(stack: Stack, workload: Workload) -> None:
    request_id, trace_id = next(iter(workload.request_ids.items()))
    dashboard = json.loads(DASHBOARDS[0].read_text())
    variables = {v["name"]: v.get("query", "") for v in dashboard["templating"]["list"]}
    assert variables["jaeger_url"] == "http://localhost:16686"
    assert "request_id" in variables
    urls = [link["url"] for link in dashboard["links"] if "anthropic.request.id" in urllib.parse.unquote(link["url"])]
    for panel in _panels(dashboard):
        if panel["type"] == "text":
            urls += re.findall(r"\]\((\$\{jaeger_url\}[^)\s]+)\)", panel["options"]["content"])
    assert len(urls) >= 2, "expected the request-id link in the dashboard links and in the text panel"
    for url in urls:
        resolved = _interpolate(
            url, {"jaeger_url": stack.jaeger, "service": workload.service, "request_id": request_id}
        )
        parsed = urllib.parse.urlsplit(resolved)
        assert parsed.path == "/search"
        params = urllib.parse.parse_qs(parsed.query)
        assert json.loads(params["tags"][0]) == {"anthropic.request.id": request_id}
        # The UI's /search takes the same service/tags parameters as the query API behind it.
        traces = stack.jaeger_api(f"/api/traces?{parsed.query}")["data"]
        assert [_trace_id(t) for t in traces] == [trace_id], resolved


def test_exemplars_carry_trace_ids_that_jaeger_has(stack: Stack, workload: Workload) -> None:
    data = stack.prom(
        "/api/v1/query_exemplars",
        query=f'gen_ai_client_operation_duration_seconds_bucket{{job="{workload.service}"}}',
        start=f"{workload.at - 600:.3f}",
        end=f"{time.time() + 1:.3f}",
    )
    exemplars = [e for series in data for e in series["exemplars"]]
    assert exemplars, "no exemplars: is enable_open_metrics on and --enable-feature=exemplar-storage set?"
    label_names = {name for e in exemplars for name in e["labels"]}
    # The Grafana data source links the exemplar label named in exemplarTraceIdDestinations.
    assert "trace_id" in label_names, label_names
    assert re.search(
        r"exemplarTraceIdDestinations:\s*\n\s*-\s*name:\s*trace_id\s*\n\s*datasourceUid:\s*jaeger",
        DATASOURCES_FILE.read_text(),
    )
    known = set(workload.request_ids.values())
    trace_ids = {e["labels"]["trace_id"] for e in exemplars}
    assert trace_ids & known, f"exemplar trace ids {trace_ids} are not the workload's traces"
    trace = stack.jaeger_api(f"/api/traces/{next(iter(trace_ids & known))}")["data"]
    assert trace
    assert trace[0]["spans"]


# ------------------------------------------------------------------------------------ dashboards
def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _dashboard_queries() -> list[tuple[str, str, str]]:
    queries = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in _panels(dashboard):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    queries.append((path.name, f"{panel['title']} [{target['refId']}]", target["expr"]))
    return queries


_HISTOGRAM_QUERY = re.compile(
    r"histogram_quantile\(\s*0?\.\d+,\s*sum by \(le\b[^)]*\) "
    r"\(rate\(\w+_bucket\{[^}]*\}\[\$__rate_interval\]\)\)\)"
)


def test_dashboards_are_well_formed() -> None:
    assert DASHBOARDS, "no dashboards in grafana/dashboards"
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["schemaVersion"] >= 41
        assert dashboard["uid"]
        assert dashboard["title"]
        names = {v["name"] for v in dashboard["templating"]["list"]}
        assert {"service", "model", "route", "request_id"} <= names
        ids = [p["id"] for p in _panels(dashboard)]
        assert len(ids) == len(set(ids)), "duplicate panel ids"
        for panel in _panels(dashboard):
            assert panel.get("description", "").strip(), f"{path.name}: panel {panel['title']!r} has no description"
            for target in panel.get("targets", []):
                expr = target.get("expr", "")
                assert target["datasource"]["uid"] == "${datasource}", panel["title"]
                if "_bucket" in expr:
                    assert _HISTOGRAM_QUERY.search(expr), (
                        f"{panel['title']}: not histogram_quantile(q, sum by (le, ...) "
                        f"(rate(..._bucket{{...}}[$__rate_interval]))): {expr}"
                    )
                if "rate(" in expr:
                    assert "[$__rate_interval]" in expr, expr
                    assert not re.search(r"\[\d+[smhd]\]", expr), expr
    assert any(t.get("exemplar") for p in _panels(dashboard) for t in p.get("targets", []))


def _substitute(expr: str, service: str, rate_interval: str) -> str:
    values = {"__rate_interval": rate_interval, "__range": "1h", "service": service, "model": ".*", "route": ".*"}
    out = _interpolate(expr, values)
    assert "$" not in out, out
    return out


def test_the_allow_list_of_waiting_panels_is_exact() -> None:
    titles = {panel for _, panel, _ in _dashboard_queries()}
    for title, otel_name in PANELS_WAITING_FOR_METRICS.items():
        assert otel_name in PENDING_METRICS, (title, otel_name)
        prom_name = PENDING_METRICS[otel_name][0]
        exprs = [expr for _, panel, expr in _dashboard_queries() if panel.rsplit(" [", 1)[0] == title]
        assert exprs, f"PANELS_WAITING_FOR_METRICS names {title!r}, which is no panel with queries: {sorted(titles)}"
        for expr in exprs:
            assert prom_name in expr, f"{title!r} is allowed to wait for {prom_name} but does not use it: {expr}"


def test_every_dashboard_query_returns_data(stack: Stack, workload: Workload) -> None:
    rate_interval = f"{int(4 * stack.scrape_interval_s)}s"
    queries = _dashboard_queries()
    assert len(queries) >= 15
    pending = {otel: names for otel, names in PENDING_METRICS.items() if not _instrumentation_defines(otel)}
    empty, waiting = [], []
    for dashboard, panel, expr in queries:
        promql = _substitute(expr, workload.service, rate_interval)
        values = _finite_samples(stack.query(promql, at=workload.at))
        print(f"{panel}: {len(values)} series, e.g. {values[:3]}")
        if values:
            continue
        otel_name = PANELS_WAITING_FOR_METRICS.get(panel.rsplit(" [", 1)[0])
        if otel_name in pending:
            prom_name, stand_in = pending[otel_name]
            stand_in_promql = promql.replace(prom_name, stand_in)
            stand_in_values = _finite_samples(stack.query(stand_in_promql, at=workload.at))
            print(f"  waits for {otel_name} ({prom_name}); with {stand_in}: {stand_in_values[:3]}")
            if stand_in_values:
                waiting.append(panel)
                continue
            empty.append(f"{dashboard} / {panel} (even with {stand_in} for {prom_name}): {stand_in_promql}")
            continue
        empty.append(f"{dashboard} / {panel}: {promql}")
    print(f"\npanels waiting for metrics not emitted yet: {waiting}")
    assert not empty, "panel queries without data:\n" + "\n".join(empty)


def test_dashboard_variables_resolve(stack: Stack, workload: Workload) -> None:
    """The query variables (label_values(...)) list this run's service, models and route."""
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"])
            assert match, variable["query"]
            selector = _interpolate(match.group(1), {"service": workload.service})
            values = set(stack.prom(f"/api/v1/label/{match.group(2)}/values", **{"match[]": selector}))
            print(f"${variable['name']}: {sorted(values)}")
            routes = {ROUTE} if hasattr(anthropic_otel, "route") else set()
            expected = {"service": {workload.service}, "model": {SONNET, HAIKU}, "route": routes}.get(
                variable["name"], set()
            )
            assert expected <= values, (variable["name"], values)


# ------------------------------------------------------------------------------------ alert rules
def _rule_names_in_file() -> tuple[set[str], set[str]]:
    text = ALERTS_FILE.read_text()
    return set(re.findall(r"^\s*- alert:\s*(\S+)", text, re.M)), set(re.findall(r"^\s*- record:\s*(\S+)", text, re.M))


def _loaded_rules(stack: Stack) -> list[dict[str, Any]]:
    return [rule for group in stack.prom("/api/v1/rules")["groups"] for rule in group["rules"]]


def test_alert_rules_load_and_evaluate(stack: Stack, workload: Workload) -> None:
    alerts, records = _rule_names_in_file()
    rules = _wait_for(
        "every rule to be evaluated",
        lambda: (r := _loaded_rules(stack)) and all(x.get("lastEvaluation", "").startswith("20") for x in r) and r,
        timeout=3 * 15 + 5,
    )
    assert {r["name"] for r in rules if r["type"] == "alerting"} == alerts
    assert {r["name"] for r in rules if r["type"] == "recording"} == records
    bad = [
        (r["name"], r.get("health"), r.get("lastError")) for r in rules if r.get("health") != "ok" or r.get("lastError")
    ]
    assert not bad, bad


_COMPARISON = re.compile(r"(>=|<=|==|!=|>|<)")
_SET_OPERATOR = re.compile(r"(and|or|unless)(?![\w:])")
_MODIFIERS = re.compile(r"^\s*(bool\s+)?((on|ignoring)\s*\([^)]*\)\s*)?((group_left|group_right)\s*(\([^)]*\))?\s*)?")
_OFFSET = re.compile(r"\s+offset\s+-?(\d+(ms|s|m|h|d|w|y))+")


def split_top_level(expr: str) -> list[str]:
    """Operands of `expr` at its top-level comparison and set operators (not inside (), {}, [] or quotes)."""
    parts: list[str] = []
    depth, quote, start, i = 0, "", 0, 0
    while i < len(expr):
        char = expr[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            match = _COMPARISON.match(expr, i)
            if match is None and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] in "_:")):
                match = _SET_OPERATOR.match(expr, i)
            if match:
                parts.append(expr[start:i])
                i = start = match.end()
                continue
        i += 1
    parts.append(expr[start:])
    operands = [_MODIFIERS.sub("", part).strip() for part in parts]
    return [op for op in operands if op]


def test_split_top_level() -> None:
    assert split_top_level('sum(rate(x{a!="b"}[5m])) / sum(rate(x[5m])) > 0.05') == [
        'sum(rate(x{a!="b"}[5m])) / sum(rate(x[5m]))',
        "0.05",
    ]
    assert split_top_level("a > 3 * avg_over_time(a[1w] offset 1h) and on (job) a offset 1d") == [
        "a",
        "3 * avg_over_time(a[1w] offset 1h)",
        "a offset 1d",
    ]
    assert split_top_level("(x or 0 * y) / y < 0.5 * (z / y)") == ["(x or 0 * y) / y", "0.5 * (z / y)"]
    assert _OFFSET.sub("", "rate(x[1h] offset 1d) / rate(y[30m] offset 1w)") == "rate(x[1h]) / rate(y[30m])"


def test_every_alert_rule_component_returns_data(stack: Stack, workload: Workload) -> None:
    _, records = _rule_names_in_file()
    for record in records:
        _wait_for(f"recording rule {record} to produce a series", lambda r=record: stack.query(r), timeout=3 * 15 + 5)
    alerting = [r for r in _loaded_rules(stack) if r["type"] == "alerting"]
    assert alerting
    empty = []
    for rule in alerting:
        components = [c for c in split_top_level(rule["query"]) if not re.fullmatch(r"[\d.eE+-]+", c)]
        assert components, (rule["name"], rule["query"])
        for component in components:
            promql = _OFFSET.sub("", component)
            ours = [s for s in stack.query(promql) if s["metric"].get("job") == workload.service]
            values = _finite_samples(ours)
            print(f"{rule['name']}: {promql} -> {values[:3]}")
            if not values:
                empty.append(f"{rule['name']}: {promql}")
    assert not empty, "alert rule components without data:\n" + "\n".join(empty)


def test_error_alerts_go_pending_on_real_data(stack: Stack, workload: Workload) -> None:
    """The workload fails 1 in 6 sonnet calls with a 429: both error alerts must be active."""

    def active() -> set[str]:
        alerts = stack.prom("/api/v1/alerts")["alerts"]
        return {
            a["labels"]["alertname"]
            for a in alerts
            if a["labels"].get("job") == workload.service and a["state"] in ("pending", "firing")
        }

    names = _wait_for(
        "ClaudeApiErrorRatioHigh and ClaudeApiRateLimited to be pending",
        lambda: (a := active()) >= {"ClaudeApiErrorRatioHigh", "ClaudeApiRateLimited"} and a,
        timeout=3 * 15 + 5,
    )
    assert "ClaudeApiRateLimited" in names
