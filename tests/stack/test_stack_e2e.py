"""End to end: ONE plain `anthropic-otel demo --otlp URL` process -> collector -> Jaeger + Prometheus, for real.

Run by scripts/stack-e2e, which starts the servers with the deploy/ configs and passes:

    ANTHROPIC_OTEL_STACK=1
    ANTHROPIC_OTEL_STACK_OTLP_HTTP         collector OTLP/HTTP base URL
    ANTHROPIC_OTEL_STACK_PROMETHEUS        Prometheus base URL
    ANTHROPIC_OTEL_STACK_JAEGER            Jaeger query (HTTP API) base URL
    ANTHROPIC_OTEL_STACK_SCRAPE_INTERVAL   deploy/prometheus.yml's scrape_interval (e.g. 15s)

The workload is what a newcomer runs: one `anthropic-otel demo --otlp URL` process, which makes
the demo's calls against its embedded fake Claude API and exports its metrics once, at exit. Its
calls must count in rate() and increase() all the same: Prometheus ingests a zero at each counter's
created timestamp (deploy/README.md, "Short-lived processes count").

Nothing here knows the demo's workload: the expected values come from the run itself, so that the
workload is written down once (in the demo). The calls are the spans Jaeger has for the run's
service; the totals are what the process exported (the last sample of each series in Prometheus,
which must agree with the spans). Then:

* every cumulative series starts with a 0 at its created timestamp, inside the process's lifetime;
* Prometheus has the names the dashboards and rules use, with labels that are the spans' values;
* Jaeger finds each call by `anthropic.request.id`, also through the dashboard's link; exemplars
  carry trace ids that Jaeger has;
* EVERY PromQL query of EVERY panel, with Grafana's variables substituted, evaluated at the scrape
  that first saw the process's totals: each "share" panel equals the share computed from the
  totals (per series, exactly), every rate()/increase() panel is non-zero, the headroom gauge is
  the lowest headroom exported, and no panel has a series with a blank model;
* the alert rules load and evaluate; each alert's components have data unless they select a label
  value that the run does not have; the alerts whose expression holds for the run go pending.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("ANTHROPIC_OTEL_STACK") != "1":
    pytest.skip(
        "end-to-end stack test: run scripts/stack-e2e (needs ANTHROPIC_OTEL_STACK=1 and the servers)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
ALERTS_FILE = ROOT / "deploy" / "alerts.yml"
DATASOURCES_FILE = ROOT / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
CLI = Path(sys.executable).with_name("anthropic-otel")

CALLS = "gen_ai_client_operation_duration_seconds_count"
# The Prometheus names of the instrumentation's metrics, as the collector's prometheus exporter
# writes them (OpenTelemetry name -> Prometheus name(s)).
EXPECTED_NAMES = {
    "gen_ai.client.operation.duration": [
        "gen_ai_client_operation_duration_seconds_bucket",
        "gen_ai_client_operation_duration_seconds_sum",
        CALLS,
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
    "gen_ai.client.operation.time_per_output_chunk": [
        "gen_ai_client_operation_time_per_output_chunk_seconds_bucket",
        "gen_ai_client_operation_time_per_output_chunk_seconds_sum",
        "gen_ai_client_operation_time_per_output_chunk_seconds_count",
    ],
    "anthropic.client.cache.tokens": ["anthropic_client_cache_tokens_total"],
    "anthropic.client.retries": ["anthropic_client_retries_total"],
    "anthropic.client.cost": ["anthropic_client_cost_USD_total"],
    "anthropic.client.cache.savings": ["anthropic_client_cache_savings_USD_total"],
    "anthropic.client.ratelimit.headroom": ["anthropic_client_ratelimit_headroom_ratio"],
    "anthropic.client.batch.results": ["anthropic_client_batch_results_total"],
    "anthropic.client.diagnostics": ["anthropic_client_diagnostics_total"],
}
HEADROOM = "anthropic_client_ratelimit_headroom_ratio"


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


# ------------------------------------------------------------------------------------ the run
Labels = frozenset[tuple[str, str]]  # a series' (or a group's) labels
Totals = dict[Labels, float]
Where = Callable[[dict[str, str]], bool]


def _key(labels: dict[str, str], by: tuple[str, ...]) -> Labels:
    return frozenset((label, labels.get(label, "")) for label in by)


@dataclass
class Series:
    name: str
    labels: dict[str, str]  # without __name__
    samples: list[tuple[float, float]]  # (time, value), oldest first

    @property
    def cumulative(self) -> bool:
        return self.name.endswith(("_total", "_count", "_sum", "_bucket"))

    @property
    def last(self) -> float:
        return self.samples[-1][1]


@dataclass
class Span:
    trace_id: str
    name: str
    tags: dict[str, Any]


@dataclass
class DemoRun:
    service: str
    started: float  # wall clock around the process
    ended: float
    output: str
    spans: list[Span]  # from Jaeger
    series: list[Series]  # every series of the run's job, every sample Prometheus has
    at: float  # evaluation time: the scrape that first saw the last of the process's totals
    rate_interval: str

    def totals(self, name: str, by: tuple[str, ...] = (), where: Where | None = None) -> Totals:
        """Sum of the last values of the series `name` (the process's totals), grouped by labels `by`."""
        sums: Totals = defaultdict(float)
        for series in self.series:
            if series.name == name and (where is None or where(series.labels)):
                sums[_key(series.labels, by)] += series.last
        return dict(sums)

    def span_totals(self, labels: dict[str, str], value: Callable[[Span], float] = lambda span: 1.0) -> Totals:
        """Sum of `value` over the run's spans, grouped like series (Prometheus label: span attribute)."""
        sums: Totals = defaultdict(float)
        for span in self.spans:
            sums[frozenset((label, str(span.tags.get(key, ""))) for label, key in labels.items())] += value(span)
        return {group: total for group, total in sums.items() if total}

    def has_label_value(self, label: str, value: str) -> bool:
        return any(series.labels.get(label) == value for series in self.series)


def _jaeger_spans(stack: Stack, service: str) -> list[Span]:
    query = urllib.parse.urlencode({"service": service, "limit": 1000, "lookback": "1h"})
    traces = stack.jaeger_api(f"/api/traces?{query}").get("data") or []
    return [
        Span(_trace_id(trace), span["operationName"], _span_tags(span)) for trace in traces for span in trace["spans"]
    ]


def _run_series(stack: Stack, service: str, seconds: int) -> list[Series]:
    result = stack.query(f'{{job="{service}"}}[{seconds}s]')
    return [
        Series(
            name=item["metric"]["__name__"],
            labels={k: v for k, v in item["metric"].items() if k != "__name__"},
            samples=[(float(t), float(v)) for t, v in item["values"]],
        )
        for item in result
    ]


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack(
        otlp_http=os.environ["ANTHROPIC_OTEL_STACK_OTLP_HTTP"].rstrip("/"),
        prometheus=os.environ["ANTHROPIC_OTEL_STACK_PROMETHEUS"].rstrip("/"),
        jaeger=os.environ["ANTHROPIC_OTEL_STACK_JAEGER"].rstrip("/"),
        scrape_interval_s=_parse_duration(os.environ.get("ANTHROPIC_OTEL_STACK_SCRAPE_INTERVAL", "15s")),
    )


@pytest.fixture(scope="module")
def run(stack: Stack) -> DemoRun:
    """One plain `anthropic-otel demo --otlp URL` process, and what the stack made of it."""
    assert CLI.exists(), f"{CLI} missing: the stage runs the installed command"
    service = f"anthropic-otel-e2e-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "OTEL_SERVICE_NAME": service}
    started = time.time()
    # The timeout only detects a hang.
    done = subprocess.run(
        [str(CLI), "demo", "--otlp", stack.otlp_http], check=False, env=env, capture_output=True, text=True, timeout=600
    )
    ended = time.time()
    output = done.stdout + done.stderr
    print(output)
    assert done.returncode == 0, output
    assert "not exporting" not in output, output

    def agreed() -> tuple[list[Span], float] | None:
        # The process exported its spans, then its metrics, at exit; the stack has all of both once
        # Jaeger's spans and Prometheus's call count agree.
        spans = _jaeger_spans(stack, service)
        result = stack.query(f'sum({CALLS}{{job="{service}"}})')
        calls = float(result[0]["value"][1]) if result else 0.0
        return (spans, calls) if spans and len(spans) == calls else None

    spans, _ = _wait_for(
        "Jaeger's spans and Prometheus's call count to agree", agreed, 4 * stack.scrape_interval_s + 60
    )
    series = _run_series(stack, service, math.ceil(time.time() - started) + 60)
    cumulative = [s for s in series if s.cumulative]
    assert cumulative, [s.name for s in series]
    # The first scrape holding a series' final value: there, and after, every rate() and increase()
    # over a window that reaches back to the series' created timestamp sees the whole total, with
    # no extrapolation (the window ends on a sample, and starts at a zero).
    at = max(next(t for t, v in s.samples if v == s.last) for s in cumulative)
    created = min(s.samples[0][0] for s in cumulative)
    # Grafana's $__rate_interval on the dashboard's default 3 h range is 4 x the scrape interval; a
    # slow run gets a wider window (Grafana's on a wider time range), so the check does not depend
    # on how fast the machine ran the demo.
    rate_interval = max(4 * stack.scrape_interval_s, math.ceil(at - created) + 1)
    print(f"run {service}: {ended - started:.1f}s, {len(spans)} spans, evaluated at {at:.3f}, window {rate_interval}s")
    return DemoRun(service, started, ended, output, spans, series, at, f"{int(rate_interval)}s")


# ------------------------------------------------------------------------------------ the mechanism
def test_counters_start_at_zero_at_their_created_timestamp(stack: Stack, run: DemoRun) -> None:
    """Prometheus stores a 0 at each cumulative series' created timestamp (the process's start time of
    the series), before the first scraped total: rate() and increase() see the process's calls."""
    cumulative = [s for s in run.series if s.cumulative]
    for series in cumulative:
        where = f"{series.name}{series.labels}: {series.samples[:3]}"
        assert series.samples[0][1] == 0, f"does not start at 0: {where}"
        assert len(series.samples) >= 2, f"no scraped sample after the 0: {where}"
        (created, _), (scraped, _) = series.samples[0], series.samples[1]
        assert run.started - 1 <= created <= run.ended + 1, f"created outside the process's life: {where}"
        # The plain demo exports once, at exit: the case of every short-lived process.
        assert scraped >= run.ended - 1, f"scraped before the process ended: {where}"
    nonzero = [s for s in cumulative if s.last > 0]
    assert nonzero
    print(f"{len(cumulative)} cumulative series, each from 0 at its created timestamp; {len(nonzero)} non-zero")


def test_the_calls_count_once_each(stack: Stack, run: DemoRun) -> None:
    """What the process made (its spans) is what rate() and increase() count: every call, once."""
    calls = stack.query(f'sum(increase({CALLS}{{job="{run.service}"}}[1h]))', at=run.at)
    assert [float(r["value"][1]) for r in calls] == [len(run.spans)]
    model_and_error = {"gen_ai_request_model": "gen_ai.request.model", "error_type": "error.type"}
    assert run.totals(CALLS, tuple(model_and_error)) == run.span_totals(model_and_error)
    model = {"gen_ai_request_model": "gen_ai.request.model"}
    retries = run.span_totals(model, lambda span: float(span.tags.get("http.request.resend_count", 0)))
    assert retries, "the run has a call the SDK retried"
    assert run.totals("anthropic_client_retries_total", tuple(model)) == retries


# ------------------------------------------------------------------------------------ metric names
def test_prometheus_has_the_metric_names_the_dashboards_use(stack: Stack, run: DemoRun) -> None:
    names = {series.name for series in run.series}
    print(f"\nPrometheus names for job={run.service}: {sorted(names)}")
    missing = {otel: [n for n in prom if n not in names] for otel, prom in EXPECTED_NAMES.items()}
    assert not {k: v for k, v in missing.items() if v}, f"missing Prometheus names: {missing}; present: {sorted(names)}"
    cost_labels = {label for s in run.series if s.name == "anthropic_client_cost_USD_total" for label in s.labels}
    assert {"gen_ai_request_model", "anthropic_cost_category", "anthropic_route"} <= cost_labels, cost_labels


def _label_values(run: DemoRun, label: str, name: str = CALLS) -> set[str]:
    return {s.labels[label] for s in run.series if s.name == name and s.labels.get(label)}


def test_prometheus_labels_are_the_spans_attributes(stack: Stack, run: DemoRun) -> None:
    def span_values(key: str) -> set[str]:
        return {str(span.tags[key]) for span in run.spans if span.tags.get(key)}

    for label, key in (
        ("gen_ai_request_model", "gen_ai.request.model"),
        ("error_type", "error.type"),
        ("anthropic_route", "anthropic.route"),
        ("gen_ai_provider_name", "gen_ai.provider.name"),
        ("server_address", "server.address"),
    ):
        assert _label_values(run, label) == span_values(key), label
        assert span_values(key), f"the run's spans have no {key}"
    assert "chat" in _label_values(run, "gen_ai_operation_name")
    assert _label_values(run, "gen_ai_token_type", "gen_ai_client_token_usage_sum") == {"input", "output"}
    assert "read" in _label_values(run, "anthropic_cache_operation", "anthropic_client_cache_tokens_total")
    assert _label_values(run, "anthropic_ratelimit_type", HEADROOM)
    # honor_labels keeps the job the collector derived from service.name
    assert {s.labels["job"] for s in run.series} == {run.service}


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


def _request_ids(run: DemoRun) -> dict[str, str]:
    return {str(s.tags["anthropic.request.id"]): s.trace_id for s in run.spans if s.tags.get("anthropic.request.id")}


def test_jaeger_finds_each_call_by_request_id(stack: Stack, run: DemoRun) -> None:
    request_ids = _request_ids(run)
    assert len(request_ids) >= len(run.spans) // 2, "most calls carry the API's request id"
    failed = [s for s in run.spans if s.tags.get("error.type") and s.tags.get("anthropic.request.id")]
    assert failed, "the run has a failed call with a request id"
    for request_id, trace_id in [
        *list(request_ids.items())[:4],
        (failed[0].tags["anthropic.request.id"], failed[0].trace_id),
    ]:
        traces = _jaeger_traces_by_request_id(stack, run.service, request_id)
        assert [_trace_id(t) for t in traces] == [trace_id]
        spans = [s for s in traces[0]["spans"] if _span_tags(s).get("anthropic.request.id") == request_id]
        assert len(spans) == 1


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


def test_dashboard_request_id_links_find_the_trace(stack: Stack, run: DemoRun) -> None:
    request_id, trace_id = next(iter(_request_ids(run).items()))
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
        resolved = _interpolate(url, {"jaeger_url": stack.jaeger, "service": run.service, "request_id": request_id})
        parsed = urllib.parse.urlsplit(resolved)
        assert parsed.path == "/search"
        params = urllib.parse.parse_qs(parsed.query)
        assert json.loads(params["tags"][0]) == {"anthropic.request.id": request_id}
        # The UI's /search takes the same service/tags parameters as the query API behind it.
        traces = stack.jaeger_api(f"/api/traces?{parsed.query}")["data"]
        assert [_trace_id(t) for t in traces] == [trace_id], resolved


def test_exemplars_carry_trace_ids_that_jaeger_has(stack: Stack, run: DemoRun) -> None:
    data = stack.prom(
        "/api/v1/query_exemplars",
        query=f'gen_ai_client_operation_duration_seconds_bucket{{job="{run.service}"}}',
        start=f"{run.started - 60:.3f}",
        end=f"{time.time() + 1:.3f}",
    )
    exemplars = [e for series in data for e in series["exemplars"]]
    assert exemplars, "no exemplars: does the collector's exporter serve them and --enable-feature=exemplar-storage?"
    label_names = {name for e in exemplars for name in e["labels"]}
    # The Grafana data source links the exemplar label named in exemplarTraceIdDestinations.
    assert "trace_id" in label_names, label_names
    assert re.search(
        r"exemplarTraceIdDestinations:\s*\n\s*-\s*name:\s*trace_id\s*\n\s*datasourceUid:\s*jaeger",
        DATASOURCES_FILE.read_text(),
    )
    known = {span.trace_id for span in run.spans}
    trace_ids = {e["labels"]["trace_id"] for e in exemplars}
    assert trace_ids <= known, f"exemplar trace ids {trace_ids - known} are not the run's traces"


# ------------------------------------------------------------------------------------ dashboards
def _panels(dashboard: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


@dataclass
class Query:
    dashboard: str
    panel: dict[str, Any]
    target: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.panel['title']} [{self.target['refId']}]"

    @property
    def expr(self) -> str:
        return str(self.target["expr"])


def _dashboard_queries() -> list[Query]:
    return [
        Query(path.name, panel, target)
        for path in DASHBOARDS
        for panel in _panels(json.loads(path.read_text()))
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


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


_SELECTOR = re.compile(r"(\w+)\{([^}]*)\}")


def test_every_panel_honours_model_and_route(stack: Stack, run: DemoRun) -> None:
    """Each metric a panel selects is filtered by $model and $route, where the run's series carry the label."""
    unfiltered = []
    for query in _dashboard_queries():
        for name, matchers in _SELECTOR.findall(query.expr):
            labels = {label for s in run.series if s.name == name for label in s.labels}
            for label, variable in (("gen_ai_request_model", "$model"), ("anthropic_route", "$route")):
                if label in labels and f'{label}=~"{variable}"' not in matchers:
                    unfiltered.append(f'{query.key}: {name}{{{matchers}}} lacks {label}=~"{variable}"')
    assert not unfiltered, "\n".join(unfiltered)


def _substitute(expr: str, run: DemoRun) -> str:
    values = {
        "__rate_interval": run.rate_interval,
        "__range": "1h",
        "service": run.service,
        "model": ".*",
        "route": ".*",
    }
    out = _interpolate(expr, values)
    assert "$" not in out, out
    return out


# The "share" panels: each one's value, per series, from the run's totals (what the process
# exported), with the same grouping and filters as the panel's query.
MODEL = ("gen_ai_request_model",)


def _share(numerators: Totals, denominators: Totals) -> Totals:
    """numerator / denominator per group of the denominators (a group without numerator: 0)."""
    return {labels: numerators.get(labels, 0.0) / total for labels, total in denominators.items() if total}


def _calls(run: DemoRun, by: tuple[str, ...] = (), where: Where | None = None) -> Totals:
    return run.totals(CALLS, by, where)


def _failed(labels: dict[str, str]) -> bool:
    return bool(labels.get("error_type"))


def _names_a_model(labels: dict[str, str]) -> bool:
    return bool(labels.get("gen_ai_request_model"))


def _cache_read_share(run: DemoRun, by: tuple[str, ...]) -> Totals:
    reads = run.totals("anthropic_client_cache_tokens_total", by, lambda m: m["anthropic_cache_operation"] == "read")
    inputs = run.totals("gen_ai_client_token_usage_sum", by, lambda m: m["gen_ai_token_type"] == "input")
    return _share(reads, inputs)


def _error_shares(run: DemoRun) -> Totals:
    calls = sum(_calls(run).values())
    return {labels: count / calls for labels, count in _calls(run, ("error_type",), _failed).items()}


def _lowest_headroom(run: DemoRun) -> Totals:
    """The lowest headroom per model and limit that the process exported for a model."""
    lowest: Totals = {}
    for series in run.series:
        if series.name == HEADROOM and _names_a_model(series.labels):
            key = _key(series.labels, ("gen_ai_request_model", "anthropic_ratelimit_type"))
            lowest[key] = min(lowest.get(key, math.inf), series.last)
    return lowest


EXACT: dict[str, Callable[[DemoRun], Totals]] = {
    "Error ratio [A]": lambda run: _share(_calls(run, where=_failed), _calls(run)),
    "Cache read share of input [A]": lambda run: _cache_read_share(run, ()),
    "Error ratio by error.type [A]": _error_shares,
    "Rate-limit pressure: 429 share [A]": lambda run: _share(
        _calls(run, MODEL, lambda m: m.get("error_type") == "rate_limit_error"), _calls(run, MODEL, _names_a_model)
    ),
    "Retries per second by model [B]": lambda run: _share(
        run.totals("anthropic_client_retries_total", MODEL, _names_a_model), _calls(run, MODEL, _names_a_model)
    ),
    "Cache read share of input tokens [A]": lambda run: _cache_read_share(run, MODEL),
    # a gauge, not a share: the lowest value exported
    "Rate-limit headroom [A]": _lowest_headroom,
}


def _is_rate(expr: str) -> bool:
    return bool(re.search(r"\b(rate|increase)\(", expr))


def test_every_query_has_an_expectation() -> None:
    keys = {query.key for query in _dashboard_queries()}
    assert set(EXACT) <= keys, f"EXACT names no panel query: {set(EXACT) - keys}"
    unchecked = [q.key for q in _dashboard_queries() if q.key not in EXACT and not _is_rate(q.expr)]
    assert not unchecked, f"panel queries with neither an exact value (EXACT) nor rate()/increase(): {unchecked}"


def test_every_panel_query_shows_the_run(stack: Stack, run: DemoRun) -> None:
    """Each share panel its exact value, each rate()/increase() panel a non-zero value, every timeseries
    a legend made of its series' labels, no series a blank model: for one demo process."""
    queries = _dashboard_queries()
    assert len(queries) >= 30
    wrong = []
    for query in queries:
        promql = _substitute(query.expr, run)
        result = stack.query(promql, at=run.at)
        values = {frozenset(r["metric"].items()): float(r["value"][1]) for r in result}
        shown = ", ".join(f"{dict(k) or ''} {v:.6g}" for k, v in sorted(values.items(), key=str))
        print(f"{query.key}: {shown or 'No data'}")
        blank = [dict(k) for k in values if dict(k).get("gen_ai_request_model") == ""]
        if blank:
            wrong.append(f"{query.key}: series with a blank model {blank}")
        exact = EXACT.get(query.key)
        if exact is not None:
            expected = exact(run)
            assert expected, f"{query.key}: the run gives no expected value"
            if values.keys() != expected.keys() or any(
                not math.isclose(values[k], expected[k], rel_tol=1e-9, abs_tol=1e-12) for k in expected
            ):
                wrong.append(f"{query.key}: {values} != expected {expected}\n    {promql}")
        elif not values or not all(math.isfinite(v) for v in values.values()) or not sum(values.values()) > 0:
            wrong.append(f"{query.key}: not a non-zero value: {values}\n    {promql}")
        legend = query.target.get("legendFormat", "")
        if query.panel["type"] == "timeseries":
            labels = {label for k in values for label, _ in k}
            used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
            if not legend.strip() or not used <= labels:
                wrong.append(f"{query.key}: legend {legend!r} does not name the series' labels {sorted(labels)}")
    assert not wrong, "panel queries that do not show the run:\n" + "\n".join(wrong)


def test_dashboard_variables_resolve(stack: Stack, run: DemoRun) -> None:
    """The query variables (label_values(...)) list this run's service, models and routes."""
    expected = {
        "service": {run.service},
        "model": {str(s.tags["gen_ai.request.model"]) for s in run.spans if s.tags.get("gen_ai.request.model")},
        "route": {str(s.tags["anthropic.route"]) for s in run.spans if s.tags.get("anthropic.route")},
    }
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"])
            assert match, variable["query"]
            selector = _interpolate(match.group(1), {"service": run.service})
            values = set(stack.prom(f"/api/v1/label/{match.group(2)}/values", **{"match[]": selector}))
            print(f"${variable['name']}: {sorted(values)}")
            if variable["name"] == "service":
                assert run.service in values
            else:
                assert values == expected[variable["name"]], variable["name"]


# ------------------------------------------------------------------------------------ alert rules
def _rule_names_in_file() -> tuple[set[str], set[str]]:
    text = ALERTS_FILE.read_text()
    return set(re.findall(r"^\s*- alert:\s*(\S+)", text, re.M)), set(re.findall(r"^\s*- record:\s*(\S+)", text, re.M))


def _loaded_rules(stack: Stack) -> list[dict[str, Any]]:
    return [rule for group in stack.prom("/api/v1/rules")["groups"] for rule in group["rules"]]


def test_alert_rules_load_and_evaluate(stack: Stack, run: DemoRun) -> None:
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
_EQUALITY = re.compile(r'(\w+)="([^"]+)"')


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


def _rules_time(stack: Stack, run: DemoRun) -> float:
    """When the rules first evaluated the run: its evaluation time, or the first sample of the
    run's recorded series if later (a recording rule records at its own evaluations)."""
    _, records = _rule_names_in_file()
    first = [run.at]
    for record in records:
        recorded = _wait_for(
            f"recording rule {record} to record the run",
            lambda r=record: stack.query(f'{r}{{job="{run.service}"}}[10m]'),
            timeout=3 * 15 + 5,
        )
        first.append(min(float(series["values"][0][0]) for series in recorded))
    return max(first)


def test_every_alert_rule_component_returns_data(stack: Stack, run: DemoRun) -> None:
    """Each operand of each alert (offsets removed: a fresh Prometheus has no yesterday) has data for
    the run, unless it selects a label value that the run does not have; then it must have none."""
    at = _rules_time(stack, run)
    alerting = [r for r in _loaded_rules(stack) if r["type"] == "alerting"]
    assert alerting
    wrong = []
    for rule in alerting:
        components = [c for c in split_top_level(rule["query"]) if not re.fullmatch(r"[\d.eE+-]+", c)]
        assert components, (rule["name"], rule["query"])
        for component in components:
            promql = _OFFSET.sub("", component)
            absent = [f"{k}={v}" for k, v in _EQUALITY.findall(promql) if not run.has_label_value(k, v)]
            ours = [s for s in stack.query(promql, at=at) if s["metric"].get("job") == run.service]
            values = _finite_samples(ours)
            print(f"{rule['name']}: {promql} -> {values[:3]}{f' (the run has no {absent})' if absent else ''}")
            if bool(values) == bool(absent):
                wrong.append(f"{rule['name']}: {promql} -> {values[:3]}, the run has no {absent}")
    assert not wrong, "alert rule components without data (or with data the run cannot give):\n" + "\n".join(wrong)


def test_the_alerts_that_hold_for_the_run_go_pending(stack: Stack, run: DemoRun) -> None:
    """An alert whose expression returns the run's series at the evaluation time becomes pending."""
    at = _rules_time(stack, run)
    holding = set()
    for rule in _loaded_rules(stack):
        if rule["type"] == "alerting":
            for sample in stack.query(rule["query"], at=at):
                if sample["metric"].get("job") == run.service:
                    holding.add((rule["name"], sample["metric"].get("gen_ai_request_model", "")))
    assert holding, "the demo's run makes no alert hold (its error ratio alone should)"

    def active() -> set[tuple[str, str]]:
        window = math.ceil(time.time() - run.started) + 60
        series = stack.query(f'count_over_time(ALERTS{{job="{run.service}"}}[{window}s])')
        return {(s["metric"]["alertname"], s["metric"].get("gen_ai_request_model", "")) for s in series}

    names = _wait_for(
        f"the alerts {sorted(holding)} to go pending", lambda: (a := active()) >= holding and a, 3 * 15 + 5
    )
    assert names == holding
