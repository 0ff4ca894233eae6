"""The `anthropic-otel` command: the demo's report matches its spans, and `doctor` reads each set-up right."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic
import pytest

from anthropic_otel import AnthropicInstrumentor, _demo, _doctor, cli
from anthropic_otel.diagnostics import CODES
from tests.conftest import SDK_TRACES, OTLPReceiver
from tests.user_venvs import user_venv

ROUTES = ["triage", "triage", "triage", "reply-draft", "order-lookup", "order-lookup", "triage", "reply-draft"]
ROUTES += ["reply-draft", "backlog", "backlog", "backlog", "backlog"]
NONE = cli.NONE
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


def table_rows(output: str) -> dict[str, list[str]]:
    """The cells of each row of the calls table, by request id."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) == 11 and cells[1].startswith("req_"):
            rows[cells[1]] = cells
    return rows


def number(value: Any) -> str:
    return NONE if value is None else f"{value:,}"


def test_demo_prints_one_row_per_span_with_its_request_id_and_tokens(
    demo_runs: list[_demo.DemoRun], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo"]) == 0
    output = capsys.readouterr().out
    (run,) = demo_runs
    spans = run.spans
    assert [span.name.removeprefix("anthropic.") for span in spans] == OPERATIONS
    assert [span.attributes["anthropic.route"] for span in spans] == ROUTES
    rows = table_rows(output)
    assert list(rows) == [span.attributes["anthropic.request.id"] for span in spans]
    for span in spans:
        attributes = span.attributes
        operation, _, model, tokens_in, tokens_out, cache_read, _, ttft, cost, route, _ = rows[
            attributes["anthropic.request.id"]
        ]
        assert operation == span.name.removeprefix("anthropic.")
        assert model == attributes.get("gen_ai.request.model", NONE)
        assert tokens_in == number(attributes.get("gen_ai.usage.input_tokens"))
        assert tokens_out == number(attributes.get("gen_ai.usage.output_tokens"))
        assert cache_read == number(attributes.get("gen_ai.usage.cache_read.input_tokens"))
        assert route == attributes["anthropic.route"]
        expected_cost = attributes.get("anthropic.cost.usd")
        assert cost == (NONE if expected_cost is None else f"{expected_cost:.6f}")
        assert (ttft == NONE) == ("gen_ai.response.time_to_first_chunk" not in attributes)
    by_id = {span.attributes["anthropic.request.id"]: span.attributes for span in spans}
    # The story the demo tells: a cache write then a hit, a stream, a tool loop, a retry, a 400.
    write, hit = (by_id[request_id] for request_id in list(rows)[1:3])
    assert write["gen_ai.usage.cache_creation.input_tokens"] == hit["gen_ai.usage.cache_read.input_tokens"] > 1024
    assert rows[spans[3].attributes["anthropic.request.id"]][7] != NONE  # the streamed answer's TTFT
    assert [span.attributes.get("anthropic.message.stop_reason") for span in spans[4:6]] == ["tool_use", "end_turn"]
    assert rows[spans[6].attributes["anthropic.request.id"]][10] == "end_turn (1 retry)"
    assert rows[spans[7].attributes["anthropic.request.id"]][10] == "error invalid_request_error"
    assert "9/9" in output
    total_in = sum(span.attributes.get("gen_ai.usage.input_tokens", 0) for span in spans)
    assert f"13 calls, 1 failed, 1 retried; tokens: {total_in:,} in" in output
    # The token metric also counts each succeeded batch result (the results span sums them up).
    calls_with_tokens = sum("gen_ai.usage.input_tokens" in span.attributes for span in spans)
    results = sum(span.attributes.get("anthropic.batch.results.succeeded", 0) for span in spans)
    results_in = sum(span.attributes.get("anthropic.batch.results.input_tokens", 0) for span in spans)
    assert (calls_with_tokens, results) == (7, 3)
    (token_row,) = [line for line in output.splitlines() if "token.type=input" in line]
    assert [cell.strip() for cell in token_row.split("│")[1:-1]][1:4] == [
        "token.type=input",
        f"{calls_with_tokens + results}",
        f"{total_in + results_in:,}",
    ]
    # The retried 429 is the demo's one diagnostic, counted by code.
    (diagnostic_row,) = [line for line in output.splitlines() if "diagnostic.code=" in line]
    assert [cell.strip() for cell in diagnostic_row.split("│")[1:-1]][:4] == [
        "anthropic.client.diagnostics",
        "diagnostic.code=rate_limited",
        "1",
        "1",
    ]


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
    assert f"OTLP endpoint {endpoint} does not answer (nothing accepts connections at" in output
    assert "Also exported" not in output
    (run,) = demo_runs
    assert run.otlp_endpoint is None
    assert len(table_rows(output)) == len(run.spans) == 13


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
    assert "--live calls the real Claude API and needs ANTHROPIC_API_KEY" in capsys.readouterr().out


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
    monkeypatch.setattr(_doctor, "DEFAULT_ENDPOINTS", closed)
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
    default = _doctor.DEFAULT_ENDPOINTS["grpc"]  # the suite's environment has opentelemetry-distro
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
    doctor.monkeypatch.setitem(_doctor.DEFAULT_ENDPOINTS, "http/protobuf", otlp_receiver.endpoint)
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
        message = "the SDK's own tracing is off (ANTHROPIC_OPEN_TELEMETRY=false): anthropic-otel makes the spans"
        assert f"info SDK tracing {message}" in lines(off.stdout)


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
