"""Every example in `examples/` runs against the fake API, and exports the telemetry its README promises.

Each runs as a subprocess, as a user would run it, with `ANTHROPIC_BASE_URL` pointing at the
fake API and OTLP/HTTP export to a local receiver; the replies are queued, so the exported values
are known exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import API_KEY, SDK_TRACES, OTLPReceiver

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCOPE = "com.anthropic.sdk.python" if SDK_TRACES else "anthropic_otel"
SERVER, CLIENT = 2, 3  # OTLP span kinds


def example_env(api: FakeClaudeAPI, receiver: OTLPReceiver, **extra: str) -> dict[str, str]:
    """A user's environment without their OTEL_* / ANTHROPIC_* settings, plus `extra`; always the fake
    API and the test's OTLP receiver."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "ANTHROPIC_"))}
    env.update({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", **extra})
    env.update(ANTHROPIC_BASE_URL=api.base_url, ANTHROPIC_API_KEY=API_KEY)
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint)
    return env


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def request_ids(stdout: str) -> list[str]:
    return re.findall(r"request id: (req_\w+)", stdout)


def attributes(span: Any) -> dict[str, Any]:
    """An OTLP span's attributes as plain Python values."""
    values: dict[str, Any] = {}
    for item in span.attributes:
        kind = item.value.WhichOneof("value")
        value = getattr(item.value, kind)
        if kind == "array_value":
            value = [getattr(v, v.WhichOneof("value")) for v in value.values]
        values[item.key] = value
    return values


def claude_spans(receiver: OTLPReceiver, prefix: str = "anthropic.messages") -> list[tuple[str, Any]]:
    return [(scope, span) for scope, span in receiver.spans if span.name.startswith(prefix)]


def test_in_code(api: FakeClaudeAPI, otlp_receiver: OTLPReceiver) -> None:
    api.queue(MessageReply(text="Billing handles it.", usage={"input_tokens": 42, "output_tokens": 7}))
    stdout = run([sys.executable, str(EXAMPLES / "in_code.py")], example_env(api, otlp_receiver))
    assert "reply: Billing handles it.\n" in stdout
    assert "tokens: 42 in, 7 out\n" in stdout
    ((scope, span),) = claude_spans(otlp_receiver)
    found = attributes(span)
    assert (scope, span.name, span.kind) == (SCOPE, "anthropic.messages.create", CLIENT)
    assert [found["anthropic.request.id"]] == request_ids(stdout)
    assert found["gen_ai.request.model"] == "claude-sonnet-4-6"
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (42, 7)
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= otlp_receiver.metric_names


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def test_zero_code(api: FakeClaudeAPI, otlp_receiver: OTLPReceiver) -> None:
    dotenv = read_env_file(EXAMPLES / "zero_code" / ".env.example")
    assert dotenv["OTEL_TRACES_EXPORTER"] == dotenv["OTEL_METRICS_EXPORTER"] == "otlp"
    assert dotenv["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert dotenv["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "false"
    # The file as a user sources it, but pointed at the fake API and the test's receiver.
    env = example_env(api, otlp_receiver, **{key: value for key, value in dotenv.items() if key.startswith("OTEL_")})
    api.queue(MessageReply(text="billing", usage={"input_tokens": 31, "output_tokens": 1}))
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    stdout = run([str(instrument), sys.executable, str(EXAMPLES / "zero_code" / "app.py")], env)
    assert "reply: billing\n" in stdout
    ((scope, span),) = claude_spans(otlp_receiver)
    found = attributes(span)
    assert (scope, span.name) == (SCOPE, "anthropic.messages.create")
    assert [found["anthropic.request.id"]] == request_ids(stdout)
    assert (found["gen_ai.request.model"], found["gen_ai.usage.input_tokens"]) == ("claude-haiku-4-5", 31)
    assert "gen_ai.client.token.usage" in otlp_receiver.metric_names


def test_streaming(api: FakeClaudeAPI, otlp_receiver: OTLPReceiver) -> None:
    api.queue(MessageReply(text="Sorry about that, refund on its way.", usage={"input_tokens": 30, "output_tokens": 6}))
    stdout = run([sys.executable, str(EXAMPLES / "streaming.py")], example_env(api, otlp_receiver))
    assert stdout.startswith("Sorry about that, refund on its way.\n")
    assert "tokens: 30 in, 6 out\n" in stdout
    ((_, span),) = claude_spans(otlp_receiver)
    found = attributes(span)
    assert span.name == "anthropic.messages.create"
    assert [found["anthropic.request.id"]] == request_ids(stdout)
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (30, 6)
    assert found["gen_ai.request.stream"] is True
    duration_s = (span.end_time_unix_nano - span.start_time_unix_nano) / 1e9
    assert 0 < found["gen_ai.response.time_to_first_chunk"] <= duration_s


def test_batch_results_are_found_by_custom_id(api: FakeClaudeAPI, otlp_receiver: OTLPReceiver) -> None:
    stdout = run([sys.executable, str(EXAMPLES / "batch.py")], example_env(api, otlp_receiver))
    for ticket in ("ticket-47931", "ticket-47932", "ticket-47933"):
        assert re.search(rf"^{ticket}: Thanks for reaching out\. .*  <- ", stdout, flags=re.MULTILINE), stdout
    spans = [span for _, span in claude_spans(otlp_receiver, "anthropic.messages.batches.")]
    spans.sort(key=lambda span: span.start_time_unix_nano)
    # The fake ends a batch at once, so no polling; `results()` retrieves the batch first.
    assert [span.name for span in spans] == [
        "anthropic.messages.batches.create",
        "anthropic.messages.batches.retrieve",
        "anthropic.messages.batches.results",
    ]
    ids = [attributes(span)["anthropic.request.id"] for span in spans]
    assert ids[0] == request_ids(stdout)[0]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", request_id) for request_id in ids)
    (created,) = [r for r in api.requests if r.path == "/v1/messages/batches" and r.method == "POST"]
    assert [item["custom_id"] for item in created.json["requests"]] == ["ticket-47931", "ticket-47932", "ticket-47933"]


def test_fastapi_claude_span_is_a_child_of_the_http_server_span(
    api: FakeClaudeAPI, otlp_receiver: OTLPReceiver
) -> None:
    api.queue(MessageReply(text="billing", usage={"input_tokens": 20, "output_tokens": 1}))
    stdout = run([sys.executable, str(EXAMPLES / "fastapi_service.py")], example_env(api, otlp_receiver))
    assert "POST /triage -> 200 {'team': 'billing', 'request_id': 'req_" in stdout
    (server,) = [span for _, span in otlp_receiver.spans if span.kind == SERVER]
    ((scope, claude),) = claude_spans(otlp_receiver)
    assert server.name == "POST /triage"
    assert attributes(server)["http.route"] == "/triage"
    assert (scope, claude.kind) == (SCOPE, CLIENT)
    assert claude.trace_id == server.trace_id
    assert claude.parent_span_id == server.span_id
    found = attributes(claude)
    assert [found["anthropic.request.id"]] == request_ids(stdout)
    assert found["anthropic.route"] == "triage"
    assert found["gen_ai.request.model"] == "claude-haiku-4-5"
