"""pytest plugin that runs the anthropic SDK's own test suite in one of three modes (`scripts/sdk-suite`).

The SDK's suite is the contract of "invisible to the application": run instrumented, every test must
end as it does bare. Loaded with `-p sdk_suite_plugin` (this folder on PYTHONPATH), the mode from
`SDK_SUITE_MODE`:

- `bare`: nothing set up; only the outcomes are recorded.
- `control`: real tracer, meter and logger providers (opentelemetry-sdk), nothing instrumented. A test
  that ends differently here reacts to the set-up, not to us: the set-up must be changed around it,
  never allow-listed.
- `instrumented`: the same providers, and `AnthropicInstrumentor().instrument(...)` with them. With a
  global provider the SDK (1.14+) traces every client that does not opt out, so its span is the one we
  enrich; where the SDK's tests give a client a provider of their own, we enrich the span made there.

The control and instrumented modes run in two groups of processes (`SDK_SUITE_PROVIDERS`): `global`,
the providers registered with the OpenTelemetry API as a zero-code or in-code user has them, for every
test but those of `WITHOUT_GLOBAL_TRACER_PROVIDER`; and `given`, for those alone, the providers only
given to `instrument()`, none registered, as an application that registers none has it. A process
decides once, as an application does: the SDK's clients keep the tracer they got first.

Each process writes JSON under `SDK_SUITE_OUT`: the controller (or the only process) the outcome of
every test (`outcomes-<group>.json`); each process that ran tests what its span tracker saw
(`spans-<group>-<worker>.json`): the spans started in our provider that never ended (after a
`gc.collect()`, so that dropped streams have been finalized), with the test that started each, and
how many calls the instrumentation recorded, which shows it was active.
"""

from __future__ import annotations

import gc
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MODES = ("bare", "control", "instrumented")
MODE = os.environ.get("SDK_SUITE_MODE", "bare")
GROUPS = ("global", "given")
GROUP = os.environ.get("SDK_SUITE_PROVIDERS", "global")
OUT = Path(os.environ.get("SDK_SUITE_OUT", "."))
# Cut long failure texts: the report quotes the exception, not pages of traceback.
MAX_TEXT = 6000

# Tests that the control run showed to need no tracer provider registered with the OpenTelemetry
# API: they run in the `given` group. Matched by test id, less any parameters.
WITHOUT_GLOBAL_TRACER_PROVIDER = frozenset(
    {
        # asserts the current span while the request is sent is invalid: there is no provider to make one
        "tests/test_tracing.py::test_propagation_off_drops_a_span_without_a_valid_context",
        # their fixture fails unless OpenTelemetry has to load the provider that OTEL_PYTHON_TRACER_PROVIDER names
        "tests/test_tracing.py::test_tracer_provider_that_is_not_installed_leaves_a_client_without_spans",
        "tests/test_tracing.py::test_given_tracer_provider_is_asked_at_the_first_call",
        # a call span of a global provider makes the SDK send a traceparent header, a new one per request:
        # the SigV4 signature the test works out covers it (the SDK signs before adding it) ...
        "tests/lib/test_bedrock.py::test_sigv4_signature",
        # ... and two runs of the same tool loop send different requests
        "tests/lib/tools/test_runners.py::test_a_runner_made_from_params_sends_the_requests_of_tool_runner",
    }
)
# Tests left out of every mode: they run their code in a child Python that loads no plugin, so they
# cannot differ, and they are among the slowest of the suite.
NOT_RUN = frozenset(
    {
        "tests/test_open_telemetry.py::TestTracingFailures::test_a_propagator_that_is_not_installed_fails_neither_the_import_nor_a_call",
    }
)


def files_without_global_provider(root: str) -> list[str]:
    """The test files under `root` (an sdist) that define a test of WITHOUT_GLOBAL_TRACER_PROVIDER."""
    files = []
    for path in sorted({test.split("::", 1)[0] for test in WITHOUT_GLOBAL_TRACER_PROVIDER}):
        try:
            text = (Path(root) / path).read_text()
        except OSError:
            continue
        names = {test.rsplit("::", 1)[1] for test in WITHOUT_GLOBAL_TRACER_PROVIDER if test.startswith(path + "::")}
        if any(f"def {name}(" in text for name in names):
            files.append(path)
    return files


_current_test = "<session>"
_outcomes: dict[str, dict[str, Any]] = {}
_setup: Setup | None = None


class Setup:
    """The providers of the control and instrumented modes, and what their span tracker saw."""

    def __init__(self, instrument: bool, register: bool) -> None:
        from opentelemetry import metrics, trace
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        self.tracker = _span_tracker()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self.tracker)
        self.reader = InMemoryMetricReader()
        # No exemplars: the default filter reads the current span at every measurement, which the SDK's
        # tests of a client with spans off count as a call into opentelemetry.trace. What they must see
        # is whether the instrumentation itself calls it.
        self.meter_provider = MeterProvider(metric_readers=[self.reader], exemplar_filter=AlwaysOffExemplarFilter())
        self.logger_provider = LoggerProvider()
        if register:
            trace.set_tracer_provider(self.tracer_provider)
            metrics.set_meter_provider(self.meter_provider)
            set_logger_provider(self.logger_provider)
        if instrument:
            from anthropic_otel import AnthropicInstrumentor

            # With the providers registered, as `opentelemetry-instrument` has them: no tracer provider is
            # named, so the span of a client the SDK traces is enriched wherever it goes (the test's own
            # provider included). Without, the provider is named, as an in-code user names it.
            named = {} if register else {"tracer_provider": self.tracer_provider}
            AnthropicInstrumentor().instrument(
                **named, meter_provider=self.meter_provider, logger_provider=self.logger_provider
            )

    def summary(self) -> dict[str, Any]:
        gc.collect()
        gc.collect()
        return {
            "mode": MODE,
            "providers": GROUP,
            "started": self.tracker.started,
            "ended": self.tracker.ended,
            "started_by_module": self.tracker.by_module,
            "unended": sorted(self.tracker.open.values(), key=lambda span: (span["test"], span["name"])),
            "calls_recorded": _calls_recorded(self.reader),
        }


def _span_tracker() -> Any:
    """A SpanProcessor counting starts and ends, keeping the spans still open (name, test that started it)."""
    from opentelemetry.sdk.trace import SpanProcessor

    class SpanTracker(SpanProcessor):
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.open: dict[tuple[int, int], dict[str, str]] = {}
            self.started = 0
            self.ended = 0
            self.by_module: dict[str, int] = {}

        def on_start(self, span: Any, parent_context: Any = None) -> None:
            with self.lock:
                self.started += 1
                module = _current_test.split("::", 1)[0]
                self.by_module[module] = self.by_module.get(module, 0) + 1
                self.open[_key(span)] = {"name": span.name, "test": _current_test}

        def on_end(self, span: Any) -> None:
            with self.lock:
                self.ended += 1
                self.open.pop(_key(span), None)

    return SpanTracker()


def _key(span: Any) -> tuple[int, int]:
    """A span's identity: `on_end` is given a read-only snapshot of the span, not the object `on_start` was."""
    context = span.get_span_context()
    return context.trace_id, context.span_id


def _calls_recorded(reader: Any) -> int:
    """How many calls `gen_ai.client.operation.duration` counted: 0 unless the instrumentation was active."""
    data = reader.get_metrics_data()
    total = 0
    for resource_metrics in getattr(data, "resource_metrics", None) or []:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == "gen_ai.client.operation.duration":
                    total += sum(point.count for point in metric.data.data_points)
    return total


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _runs_tests(config: pytest.Config) -> bool:
    """A worker, or the only process: not an xdist controller, which runs no test."""
    return _is_worker(config) or getattr(config.option, "dist", "no") == "no"


def pytest_configure(config: pytest.Config) -> None:
    global _setup  # noqa: PLW0603 - one set-up per process, as the application has it
    if MODE not in MODES or GROUP not in GROUPS:
        raise pytest.UsageError(
            f"SDK_SUITE_MODE must be one of {', '.join(MODES)} (not {MODE!r}), "
            f"SDK_SUITE_PROVIDERS one of {', '.join(GROUPS)} (not {GROUP!r})"
        )
    if MODE != "bare" and _runs_tests(config):
        _setup = Setup(instrument=MODE == "instrumented", register=GROUP == "global")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    global _current_test  # noqa: PLW0603 - read by the span tracker
    _current_test = item.nodeid
    yield
    _current_test = "<between tests>"


def _runs_here(item: pytest.Item) -> bool:
    """Whether this process runs `item`: bare runs every test at once, the other modes split them by group."""
    test = item.nodeid.split("[", 1)[0]
    if test in NOT_RUN:
        return False
    if MODE == "bare":
        return True
    return (test in WITHOUT_GLOBAL_TRACER_PROVIDER) == (GROUP == "given")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    left_out = [item for item in items if not _runs_here(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if _runs_here(item)]


def _failure_text(report: pytest.TestReport | pytest.CollectReport) -> str:
    text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
    return text if len(text) <= MAX_TEXT else "...\n" + text[-MAX_TEXT:]


def _outcome(report: pytest.TestReport) -> str | None:
    """What one phase's report says of its test; None for a set-up or teardown that passed."""
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            return "xfailed" if report.skipped else "xpassed"
        return report.outcome
    if report.failed:
        return "error"
    return "skipped" if report.skipped else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One outcome per test: passed, failed, skipped, xfailed, xpassed, or error (set-up or teardown failed)."""
    entry = _outcomes.setdefault(report.nodeid, {"outcome": "passed"})
    outcome = _outcome(report)
    if outcome is None or (entry["outcome"] in ("error", "failed") and outcome != "error"):
        return
    entry["outcome"] = outcome
    if report.failed:
        entry["text"] = f"[{report.when}] " + _failure_text(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _outcomes[f"collect::{report.nodeid}"] = {"outcome": "error", "text": _failure_text(report)}


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    OUT.mkdir(parents=True, exist_ok=True)
    if not _is_worker(config):
        (OUT / f"outcomes-{GROUP}.json").write_text(json.dumps(_outcomes, indent=0, sort_keys=True))
    if _runs_tests(config):
        worker = config.workerinput["workerid"] if _is_worker(config) else "main"  # type: ignore[attr-defined]
        summary = _setup.summary() if _setup is not None else {"mode": MODE}
        (OUT / f"spans-{GROUP}-{worker}.json").write_text(json.dumps(summary, indent=0))
