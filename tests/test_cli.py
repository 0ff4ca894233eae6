"""The `anthropic-otel` command: the demo's report matches its spans, and `doctor` reads each set-up right."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest
from rich.console import Console

from anthropic_otel import AnthropicInstrumentor, _demo, _demo_workload, _doctor, _doctor_export, cli
from anthropic_otel._demo_report import NONE, money
from anthropic_otel._diagnostics import CODES
from tests.conftest import SDK_TRACES, OTLPReceiver
from tests.user_venvs import user_venv

ROUTES = ["triage", "triage", "triage", "reply-draft", "order-lookup", "order-lookup", "triage", "reply-draft"]
ROUTES += ["reply-draft", "backlog", "backlog", "backlog", "backlog"]
OPERATIONS = ["messages.create"] * 8 + ["messages.count_tokens", "messages.batches.create"]
OPERATIONS += ["messages.batches.retrieve", "messages.batches.retrieve", "messages.batches.results"]


@pytest.fixture
def demo_runs(monkeypatch: pytest.MonkeyPatch) -> list[_demo.DemoRun]:
    """What each `run_demo` in the test returned, to compare the printed report with the spans."""
    runs: list[_demo.DemoRun] = []
    original = _demo.run_demo

    def recording(**kwargs: Any) -> _demo.DemoRun:
        runs.append(original(**kwargs))
        return runs[-1]

    monkeypatch.setattr(_demo, "run_demo", recording)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    return runs


def call_rows(output: str) -> dict[str, list[list[str]]]:
    """The calls table's rows by request id: each row's lines (up to three), split into cells."""
    rows: dict[str, list[list[str]]] = {}
    row: list[list[str]] = []
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) >= 2 and cells[1].startswith("req_"):
            row = rows[cells[1]] = [cells]
        elif row and len(row) < 3 and line.strip():
            row.append(cells)
        else:
            row = []
    return rows


def metric_rows(output: str) -> dict[str, list[str]]:
    """The metrics table's rows of breakdowns (`token.type=input`, ...) by breakdown, cells after it."""
    rows = {}
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if "=" in cells[0] and len(cells) == 4:
            rows[cells[0]] = cells[1:]
    return rows


def number(value: Any) -> str:
    return NONE if value is None else f"{value:,}"


def metric_sum(run: _demo.DemoRun, name: str) -> float:
    assert run.metrics is not None
    return sum(
        point.value
        for resource in run.metrics.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
    )


def assert_calls_table(output: str, spans: list[Any], width: int) -> None:
    """Every span is a row of the table, its cells what the span says, and no line wider than `width`."""
    assert max(len(line.rstrip()) for line in output.splitlines()) <= width
    assert "\u2026" not in output  # nothing cut short with an ellipsis
    rows = call_rows(output)
    assert list(rows) == [span.attributes["anthropic.request.id"] for span in spans]
    for span in spans:
        attributes = span.attributes
        (operation, _, tokens, _, cost), (route, model, *more), (status,) = rows[attributes["anthropic.request.id"]]
        assert operation == span.name.removeprefix("anthropic.messages.")
        assert (route, model) == (attributes["anthropic.route"], attributes.get("gen_ai.request.model", NONE))
        tokens_in, tokens_out = (
            attributes.get("gen_ai.usage.input_tokens"),
            attributes.get("gen_ai.usage.output_tokens"),
        )
        assert tokens == (NONE if tokens_in is None else f"{tokens_in:,} / {tokens_out:,}")
        expected_cost = attributes.get("anthropic.cost.usd")
        assert cost == (NONE if expected_cost is None else money(expected_cost))
        read, written = (attributes.get(f"gen_ai.usage.{key}.input_tokens") for key in ("cache_read", "cache_creation"))
        cache = ([f"read {read:,}"] if read else []) + ([f"write {written:,}"] if written else [])
        ttft = attributes.get("gen_ai.response.time_to_first_chunk")
        assert more == cache + ([f"{ttft * 1000:,.0f}"] if ttft is not None else [])
        error, retries = attributes.get("error.type"), attributes.get("http.request.resend_count")
        expected = f"error {error}" if error else attributes.get("anthropic.message.stop_reason", "ok")
        assert status == expected + (" (1 retry)" if retries == 1 else "")


def test_demo_prints_each_call_its_request_id_and_tokens_at_80_and_120_columns(
    demo_runs: list[_demo.DemoRun], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["demo"]) == 0
    output = capsys.readouterr().out
    (run,) = demo_runs
    spans = run.spans
    assert [span.name.removeprefix("anthropic.") for span in spans] == OPERATIONS
    assert [span.attributes["anthropic.route"] for span in spans] == ROUTES
    assert_calls_table(output, spans, width=80)
    # The same report on a wider terminal.
    wide = Console(file=io.StringIO(), width=120)
    cli.print_report(wide, run)
    assert_calls_table(wide.file.getvalue(), spans, width=120)  # type: ignore[attr-defined]
    # The story the demo tells: a cache write then a hit, a stream, a tool loop, a retry, a 400.
    write, hit = (span.attributes for span in spans[1:3])
    assert write["gen_ai.usage.cache_creation.input_tokens"] == hit["gen_ai.usage.cache_read.input_tokens"] > 1024
    assert "gen_ai.response.time_to_first_chunk" in spans[3].attributes
    assert [span.attributes.get("anthropic.message.stop_reason") for span in spans[4:6]] == ["tool_use", "end_turn"]
    assert spans[6].attributes["http.request.resend_count"] == 1
    assert spans[7].attributes["error.type"] == "invalid_request_error"
    assert "9/9" in output
    # The retried 429 is the demo's one diagnostic: shown under its step, explained, counted by code.
    text = " ".join(output.split())
    assert "✓ a 429, retried by the SDK: answered after the SDK's retry: refund diagnostic rate_limited: " in text
    assert f"({_demo_workload.EXPLAINED['rate_limited']})" in text
    assert metric_rows(output)["diagnostic.code=rate_limited"] == [NONE, "1", NONE]


def test_demo_summary_counts_tokens_as_the_token_metric_does_and_prints_money_for_people(
    demo_runs: list[_demo.DemoRun], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo"]) == 0
    output = capsys.readouterr().out
    (run,) = demo_runs

    def total(key: str) -> int:
        return sum(span.attributes.get(key, 0) for span in run.spans)

    # The token metric also counts each succeeded batch result (the results span sums them up).
    calls_with_tokens = sum("gen_ai.usage.input_tokens" in span.attributes for span in run.spans)
    assert (calls_with_tokens, total("anthropic.batch.results.succeeded")) == (7, 3)
    tokens_in = total("gen_ai.usage.input_tokens") + total("anthropic.batch.results.input_tokens")
    tokens_out = total("gen_ai.usage.output_tokens") + total("anthropic.batch.results.output_tokens")
    assert metric_rows(output)["token.type=input"] == ["10", f"{tokens_in:,}", f"{tokens_in / 10:.3g}"]
    assert metric_rows(output)["token.type=output"][:2] == ["10", f"{tokens_out:,}"]
    cache_read = total("gen_ai.usage.cache_read.input_tokens")
    cost = metric_sum(run, "anthropic.client.cost")
    assert cost > sum(span.attributes.get("anthropic.cost.usd", 0) for span in run.spans)  # + the batch results
    assert (
        "13 calls and 3 batch results: 1 failed, 1 retried by the SDK\n"
        f"tokens: {tokens_in:,} in ({cache_read:,} read from the cache), {tokens_out:,} out\n"
        f"        of which batch results: {total('anthropic.batch.results.input_tokens'):,} in, "
        f"{total('anthropic.batch.results.output_tokens'):,} out\n"
        f"cost:   {money(cost)} at list prices\n"
    ) in output
    assert metric_rows(output)["cost.category=input"][1].startswith("$0.00")


@pytest.mark.parametrize(
    ("usd", "shown"),
    [
        (0.00012099999999999999, "$0.00012"),
        (0.0071234, "$0.0071"),
        (0.012, "$0.012"),
        (0.5, "$0.50"),
        (0.456, "$0.46"),
        (3.14159, "$3.14"),
        (1234.5, "$1,234.50"),
        (0.0, "$0"),
        (2.5e-7, "$0.00000025"),
    ],
)
def test_money_is_printed_for_people(usd: float, shown: str) -> None:
    assert money(usd) == shown


def test_demo_for_a_while_keeps_a_mixed_workload_going_and_exports_it(
    demo_runs: list[_demo.DemoRun],
    otlp_receiver: OTLPReceiver,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_demo, "LIVE_LATENCY_S", (0.0, 0.0))  # no waiting for the fake API's latency
    assert cli.main(["demo", "--otlp", otlp_receiver.endpoint, "--for", "0.5s"]) == 0
    output = capsys.readouterr().out
    (run,) = demo_runs
    # However many rounds this machine managed, each is the whole mix, and everything was exported.
    assert run.rounds >= 1
    assert run.tally.calls == 17 * run.rounds
    assert (run.tally.failed, run.tally.retried, run.tally.batch_results) == (run.rounds, run.rounds, 3 * run.rounds)
    operations = {"create": 12, "count_tokens": 1, "batches.create": 1, "batches.retrieve": 2, "batches.results": 1}
    assert run.tally.operations == {name: count * run.rounds for name, count in operations.items()}
    exported = [span for _, span in otlp_receiver.spans if span.name.startswith("anthropic.")]
    assert len(exported) == run.tally.calls
    assert {
        "gen_ai.client.token.usage",
        "anthropic.client.cost",
        "anthropic.client.retries",
    } <= otlp_receiver.metric_names
    assert f"round {run.rounds} done at " in output
    assert f"{run.tally.calls:,} calls and {3 * run.rounds} batch results" in output
    if run.rounds > 1:
        assert f"{run.rounds} rounds of the workload: " in " ".join(output.split())
    assert f"Also exported to {otlp_receiver.endpoint}" in output


def test_demo_for_a_while_ends_at_ctrl_c_with_what_it_made(
    demo_runs: list[_demo.DemoRun], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = 0

    def interrupted_in_the_second_round(work: _demo_workload.Workload) -> str:
        nonlocal steps
        steps += 1
        if steps == 2:
            raise KeyboardInterrupt
        return _demo_workload.classify(work)

    classify = _demo_workload.STEPS[0]
    monkeypatch.setattr(_demo, "LIVE_LATENCY_S", (0.0, 0.0))
    monkeypatch.setattr(
        _demo_workload, "LIVE_ROUND", (classify, ("then Ctrl-C", "triage", interrupted_in_the_second_round))
    )
    assert cli.main(["demo", "--for", "1h"]) == 0
    (run,) = demo_runs
    assert (run.rounds, run.tally.calls) == (1, 3)  # the whole first round, and the second's first call
    assert "3 calls: 0 failed, 0 retried by the SDK" in capsys.readouterr().out


def test_demo_for_refuses_the_real_api_and_durations_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["demo", "--live", "--for", "5m"])
    assert "--for runs against the fake API only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["demo", "--for", "five minutes"])
    assert "'five minutes' is not a duration such as 90s, 5m or 1h" in capsys.readouterr().err
    assert [cli.parse_duration(text) for text in ("90", "90s", "5m", "1.5h")] == [90, 90, 300, 5400]


def test_demo_exports_the_same_spans_over_otlp(
    demo_runs: list[_demo.DemoRun], otlp_receiver: OTLPReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo", "--otlp", otlp_receiver.endpoint]) == 0
    (run,) = demo_runs
    exported = {
        item.value.string_value
        for _, span in otlp_receiver.spans
        for item in span.attributes
        if item.key == "anthropic.request.id"
    }
    assert exported == {span.attributes["anthropic.request.id"] for span in run.spans}
    assert {"gen_ai.client.token.usage", "anthropic.client.retries"} <= otlp_receiver.metric_names
    assert f"Also exported to {otlp_receiver.endpoint}" in capsys.readouterr().out


def test_demo_with_an_otlp_endpoint_that_does_not_answer_shows_it_and_does_not_export(
    demo_runs: list[_demo.DemoRun], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    assert cli.main(["demo", "--otlp", endpoint]) == 0
    output = capsys.readouterr().out
    assert f"OTLP endpoint {endpoint} does not answer (nothing accepts connections at" in " ".join(output.split())
    assert "Start the stack first: docker compose -f docker-compose.otel.yml up -d" in output
    assert "Also exported" not in output
    (run,) = demo_runs
    assert run.otlp_endpoint is None
    assert len(call_rows(output)) == len(run.spans) == 13


def test_demo_without_the_otlp_exporter_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], otlp_receiver: OTLPReceiver
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    assert cli.main(["demo", "--otlp", otlp_receiver.endpoint]) == 2
    output = " ".join(capsys.readouterr().out.split())  # the terminal may wrap the line anywhere
    assert "pip install opentelemetry-exporter-otlp-proto-http" in output


def test_live_demo_refuses_without_a_key(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert cli.main(["demo", "--live"]) == 2
    assert "--live calls the real Claude API and needs ANTHROPIC_API_KEY" in " ".join(capsys.readouterr().out.split())


# -- doctor ------------------------------------------------------------------------------------

# A subprocess only a hang keeps running this long; a busy machine can take a minute to start one.
HANG_S = 600


class Doctor:
    """`anthropic-otel doctor` run in this process (no global providers exist here, as in a fresh
    one), with no OTEL_* / ANTHROPIC_* settings but those a test gives."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.monkeypatch = monkeypatch
        self.capsys = capsys

    def __call__(self, *args: str, **env: str) -> tuple[int, list[str]]:
        with self.monkeypatch.context() as patch:
            for key in os.environ:
                if key.startswith(("OTEL_", "ANTHROPIC_")) or key == "COLUMNS":
                    patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, value)
            code = cli.main(["doctor", *args])
        return code, lines(self.capsys.readouterr().out)


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Doctor:
    assert not AnthropicInstrumentor().is_instrumented_by_opentelemetry
    # The default endpoints, where OTLP exporters send when none is set, point at a closed port:
    # whether this machine runs a collector on 4317/4318 must not change the outcome.
    closed = {"grpc": f"127.0.0.1:{closed_port()}", "http/protobuf": f"http://127.0.0.1:{closed_port()}"}
    monkeypatch.setattr(_doctor_export, "DEFAULT_ENDPOINTS", closed)
    return Doctor(monkeypatch, capsys)


def doctor_process(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`command` (a doctor) in a fresh process with no OTEL_* / ANTHROPIC_* settings but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_")) and k != "COLUMNS"}
    return subprocess.run(command, env={**clean, **env}, capture_output=True, text=True, timeout=HANG_S, check=False)


def lines(output: str) -> list[str]:
    return [re.sub(r" +", " ", line.strip()) for line in output.splitlines()]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_doctor_with_nothing_configured(doctor: Doctor) -> None:
    code, found = doctor()
    assert code == 0
    assert f"ok anthropic SDK anthropic {anthropic.__version__} is installed" in found
    sdk = (
        "info SDK tracing this SDK can trace by itself (1.14+), but with no global tracer provider it does not; "
        "anthropic-otel makes the spans with the provider given to instrument()"
        if SDK_TRACES
        else "info SDK tracing this SDK makes no spans by itself (< 1.14): anthropic-otel makes them"
    )
    assert sdk in found
    assert any(line.startswith("ok entry point 'anthropic_otel' is registered") for line in found)
    assert "warn instrumentation not active in this process" in found
    assert "warn tracer provider none configured: spans go nowhere unless given to instrument()" in found
    assert "warn meter provider none configured: metrics go nowhere unless given to instrument()" in found
    assert "warn logger provider none configured: call records (logs) go nowhere unless given to instrument()" in found
    assert (
        "ok content capture off (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT not set): "
        "no prompt or reply text is recorded" in found
    )
    # No endpoint set: the default one the exporters would send to is checked, and nothing listens.
    default = _doctor_export.DEFAULT_ENDPOINTS["grpc"]  # the suite's environment has opentelemetry-distro
    port = default.rsplit(":", 1)[1]
    (endpoint,) = [line for line in found if "OTLP endpoint" in line]
    assert endpoint == (
        f"warn OTLP endpoint OTEL_EXPORTER_OTLP_ENDPOINT is not set: OTLP exporters send to {default} (grpc), "
        f"which does not answer: nothing accepts connections at 127.0.0.1:{port} (Connection refused)"
    )
    assert found[found.index(endpoint) + 1].startswith("→ start a collector there (docker compose")
    assert not any(line.startswith("FAIL") for line in found)
    assert found[-1] == "4 ok, 1 info, 6 warnings, 0 problems"
    assert doctor("--strict")[0] == 1


def test_doctor_checks_the_default_endpoint_when_none_is_set(doctor: Doctor, otlp_receiver: OTLPReceiver) -> None:
    doctor.monkeypatch.setitem(_doctor_export.DEFAULT_ENDPOINTS, "http/protobuf", otlp_receiver.endpoint)
    _, found = doctor(OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    (line,) = [line for line in found if "OTLP endpoint" in line]
    assert line == (
        f"ok OTLP endpoint OTEL_EXPORTER_OTLP_ENDPOINT is not set: OTLP exporters send to {otlp_receiver.endpoint} "
        f"(http/protobuf), which answers: POST {otlp_receiver.endpoint}/v1/traces answered 200"
    )
    # Exporters that are not OTLP need no endpoint: none is checked.
    _, found = doctor(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    assert [line for line in found if "OTLP" in line] == []


def test_a_check_that_raises_is_a_finding_and_the_doctor_goes_on(doctor: Doctor) -> None:
    def broken() -> list[_doctor.Check]:
        raise ModuleNotFoundError("No module named 'opentelemetry.exporter'")

    groups = dict(_doctor.GROUPS)
    groups["OTLP"] = broken
    doctor.monkeypatch.setattr(_doctor, "GROUPS", tuple(groups.items()))
    code, found = doctor()
    assert code == 0
    index = found.index("warn OTLP could not be checked: ModuleNotFoundError: No module named 'opentelemetry.exporter'")
    assert found[index + 1] == "→ please report this with the output of pip list"
    assert any(line.startswith("ok diagnostics") for line in found[index:])  # the groups after it ran


def test_doctor_in_an_environment_with_only_the_cli_extra() -> None:
    """What `pip install "anthropic-otel[cli]"` gives: no OTLP exporter, no distro, no dev tools."""
    bin_dir = user_venv("user-cli", "-e .[cli]")
    result = doctor_process(str(bin_dir / "anthropic-otel"), "doctor")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    found = lines(result.stdout)
    assert (
        "warn OTLP exporter protocol http/protobuf (default) but opentelemetry-exporter-otlp-proto-http "
        "is not installed" in found
    )
    # Nothing configured: the exporters' default endpoint is checked (whatever this machine runs there).
    with socket.socket() as sock:
        listening = sock.connect_ex(("localhost", 4318)) == 0
    (line,) = [line for line in found if "OTLP endpoint" in line]
    prefix = "OTLP endpoint OTEL_EXPORTER_OTLP_ENDPOINT is not set: OTLP exporters send to http://localhost:4318"
    assert line.startswith(f"ok {prefix}" if listening else f"warn {prefix}")
    assert found[-1].endswith(f"{6 - listening} warnings, 0 problems")


def test_doctor_with_sdk_tracing_and_a_real_global_tracer_provider() -> None:
    instrument = str(Path(sys.executable).with_name("opentelemetry-instrument"))
    exporters = ("--traces_exporter", "console", "--metrics_exporter", "none", "--logs_exporter", "none")
    command = (instrument, *exporters, sys.executable, "-m", "anthropic_otel.cli", "doctor")
    result = doctor_process(*command)
    assert result.returncode == 0, result.stderr
    found = lines(result.stdout)
    sdk = (
        "info SDK tracing on: the SDK (1.14+) makes each call's span with the global tracer provider; "
        "anthropic-otel enriches it"
        if SDK_TRACES
        else "info SDK tracing this SDK makes no spans by itself (< 1.14): anthropic-otel makes them"
    )
    assert sdk in found
    assert "ok instrumentation active in this process" in found
    assert (
        "ok tracer provider TracerProvider (opentelemetry.sdk.trace) → BatchSpanProcessor(ConsoleSpanExporter)" in found
    )
    assert (
        "warn meter provider MeterProvider (opentelemetry.sdk.metrics) → no processors or readers: nothing is exported"
        in found
    )
    assert "info exporter env OTEL_TRACES_EXPORTER=console" in found
    # The same, with the SDK's own tracing switched off by its environment variable.
    if SDK_TRACES:
        off = doctor_process(*command, ANTHROPIC_OPEN_TELEMETRY="false")
        message = (
            "the SDK's own tracing is off (ANTHROPIC_OPEN_TELEMETRY=false): no call is traced, "
            "anthropic-otel records metrics and call records only"
        )
        assert f"warn SDK tracing {message}" in lines(off.stdout)


def test_doctor_says_a_closed_otlp_endpoint_does_not_answer(doctor: Doctor) -> None:
    port = closed_port()
    endpoint = f"http://127.0.0.1:{port}"
    code, found = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    assert code == 0
    (line,) = [line for line in found if "OTLP endpoint" in line]
    assert line.startswith(
        f"FAIL OTLP endpoint {endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT) does not answer: "
        f"nothing accepts connections at 127.0.0.1:{port}"
    )
    assert found[found.index(line) + 1].startswith("→ start the collector")
    assert doctor("--strict", OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)[0] == 1


def test_doctor_says_a_listening_otlp_endpoint_answers(doctor: Doctor, otlp_receiver: OTLPReceiver) -> None:
    endpoint = otlp_receiver.endpoint
    _, found = doctor(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    (line,) = [line for line in found if "OTLP endpoint" in line]
    assert line == (
        f"ok OTLP endpoint {endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT, http/protobuf) answers: "
        f"POST {endpoint}/v1/traces answered 200"
    )


def test_doctor_reports_disabled_instrumentation_and_content_capture(doctor: Doctor) -> None:
    code, found = doctor(
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="requests, anthropic_otel",
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
    )
    assert "FAIL disabled OTEL_PYTHON_DISABLED_INSTRUMENTATIONS names 'anthropic_otel': zero-code skips us" in found
    assert (
        "info content capture on (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true): "
        "prompts and replies go into spans and may hold personal data; values cut at 4096 characters, "
        "no redaction hook" in found
    )
    assert code == 0


def test_doctor_says_which_diagnostics_are_on(doctor: Doctor) -> None:
    _, found = doctor()
    assert (
        f"ok diagnostics all {len(CODES)} on (ANTHROPIC_OTEL_DIAGNOSTICS not set); "
        "findings warned once per code and route" in found
    )
    _, some = doctor(ANTHROPIC_OTEL_DIAGNOSTICS="all,-history_dropped", ANTHROPIC_OTEL_DIAGNOSTICS_WARN="never")
    on = ", ".join(code for code in CODES if code != "history_dropped")
    assert (
        f"ok diagnostics {len(CODES) - 1} of {len(CODES)} on: {on}; off: history_dropped "
        "(ANTHROPIC_OTEL_DIAGNOSTICS=all,-history_dropped); findings not logged" in some
    )
    _, off = doctor(ANTHROPIC_OTEL_DIAGNOSTICS="none,max_token_reached")
    assert "warn diagnostics ANTHROPIC_OTEL_DIAGNOSTICS names unknown codes: max_token_reached" in off
    assert (
        "info diagnostics all off (ANTHROPIC_OTEL_DIAGNOSTICS=none,max_token_reached): "
        "no anthropic.diagnostic events, counter or warnings" in off
    )


def test_doctor_reports_where_content_goes_its_limit_hook_and_the_sdk_copy(doctor: Doctor) -> None:
    _, found = doctor(
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="event_only",
        ANTHROPIC_OTEL_CONTENT_MAX_LENGTH="1000",
        ANTHROPIC_OTEL_CONTENT_HOOK="app.telemetry:redact",
        ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE="content",
    )
    assert (
        "info content capture on (OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=event_only): "
        "prompts and replies go into events and may hold personal data; values cut at 1000 characters, "
        "redacted by app.telemetry:redact" in found
    )
    assert (
        "warn content capture the SDK's own content capture is on too: "
        "its copy (no limit, no hook) is the one on its spans" in found
    )
