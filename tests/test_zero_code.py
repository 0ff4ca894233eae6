"""Zero-code: `opentelemetry-instrument python app.py` finds us through our entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from anthropic_otel.testing import FakeClaudeAPI
from tests.conftest import API_KEY, SDK_TRACES, OTLPReceiver

APP = """
import anthropic
client = anthropic.Anthropic(max_retries=0)
message = client.messages.create(
    model="claude-sonnet-4-6", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
)
print("REQUEST_ID=" + message._request_id, flush=True)
"""


def run_instrumented(api: FakeClaudeAPI, tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = {
        **os.environ,
        "ANTHROPIC_BASE_URL": api.base_url,
        "ANTHROPIC_API_KEY": API_KEY,
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_SERVICE_NAME": "zero-code-test",
        **extra_env,
    }
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    # The timeout only catches a hang: on a busy machine, starting the process alone can take a minute.
    return subprocess.run(
        [str(instrument), sys.executable, str(app)], env=env, capture_output=True, text=True, timeout=600, check=True
    )


def console_spans(stdout: str) -> list[dict[str, object]]:
    """The JSON span objects the console exporter printed."""
    spans = []
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^\{", stdout, flags=re.MULTILINE):
        try:
            obj, _ = decoder.raw_decode(stdout, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "span_id" in json.dumps(obj.get("context", {})):
            spans.append(obj)
    return spans


def test_opentelemetry_instrument_makes_one_span_with_the_request_id(api: FakeClaudeAPI, tmp_path: Path) -> None:
    result = run_instrumented(api, tmp_path)
    request_id = re.search(r"REQUEST_ID=(req_\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    spans = [span for span in console_spans(result.stdout) if span["name"] == "anthropic.messages.create"]
    assert len(spans) == 1
    attributes = spans[0]["attributes"]
    assert attributes["anthropic.request.id"] == request_id
    # Our extras are there on both paths: the SDK's own span (1.14+) or ours.
    assert attributes["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert attributes["anthropic.ratelimit.requests.limit"] > 0
    assert "gen_ai.client.token.usage" in result.stdout


def test_otlp_export_carries_one_span_of_the_expected_scope_and_the_metrics(
    api: FakeClaudeAPI, tmp_path: Path, otlp_receiver: OTLPReceiver
) -> None:
    result = run_instrumented(
        api,
        tmp_path,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_METRICS_EXPORTER="otlp",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
    )
    request_id = re.search(r"REQUEST_ID=(req_\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    calls = [(scope, span) for scope, span in otlp_receiver.spans if span.name == "anthropic.messages.create"]
    assert len(calls) == 1
    scope, span = calls[0]
    # SDK 1.14+ traces the call itself once a real provider exists: its span is the one, enriched.
    assert scope == ("com.anthropic.sdk.python" if SDK_TRACES else "anthropic_otel")
    attributes = {item.key: item.value for item in span.attributes}
    assert attributes["anthropic.request.id"].string_value == request_id
    assert [value.string_value for value in attributes["gen_ai.response.finish_reasons"].array_value.values] == [
        "end_turn"
    ]
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= otlp_receiver.metric_names
    assert all(API_KEY.encode() not in body for body in otlp_receiver.bodies)


def test_disabled_instrumentations_is_honoured(api: FakeClaudeAPI, tmp_path: Path) -> None:
    result = run_instrumented(api, tmp_path, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="anthropic_otel")
    assert "REQUEST_ID=req_" in result.stdout
    assert "gen_ai.client.token.usage" not in result.stdout
    assert "anthropic.ratelimit.requests.limit" not in result.stdout
    if not SDK_TRACES:
        assert "anthropic.messages.create" not in result.stdout


def test_the_api_key_is_in_no_exported_telemetry(api: FakeClaudeAPI, tmp_path: Path) -> None:
    result = run_instrumented(api, tmp_path, OTEL_LOGS_EXPORTER="console")
    assert "REQUEST_ID=req_" in result.stdout
    for secret in (API_KEY, "x-api-key"):  # one run checked for both: each start of a process costs seconds
        assert secret not in result.stdout
        assert secret not in result.stderr
