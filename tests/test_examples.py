"""Every example in `examples/` runs against the fake API, and exports the telemetry its README promises.

Each runs as a subprocess, as a user would run it, with `ANTHROPIC_BASE_URL` pointing at the
fake API and OTLP/HTTP export to a local receiver; the replies are queued, so the exported values
are known exactly.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

from anthropic_otel.testing import FakeClaudeAPI, MessageReply
from tests.conftest import API_KEY, SDK_TRACES, OTLPReceiver
from tests.user_venvs import user_venv

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


# A subprocess only a hang keeps running this long; a busy machine can take a minute to start one.
HANG_S = 600


def run(command: list[str], env: dict[str, str], cwd: Optional[Path] = None) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=HANG_S, check=False, cwd=cwd)
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


def console_output(stdout: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The spans, metric exports and log records that the console exporters printed, as JSON."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for match in re.finditer(r"^\{$", stdout, flags=re.MULTILINE):
        found.append(decoder.raw_decode(stdout, match.start())[0])
    spans = [item for item in found if "context" in item and "kind" in item]
    metrics = [item for item in found if "resource_metrics" in item]
    logs = [item for item in found if "body" in item]
    assert len(spans) + len(metrics) + len(logs) == len(found)
    return spans, metrics, logs


def metric_names(exports: list[dict[str, Any]]) -> set[str]:
    return {
        metric["name"]
        for export in exports
        for resource in export["resource_metrics"]
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
    }


def test_zero_code_as_the_env_file_is_prints_to_the_console(api: FakeClaudeAPI, otlp_receiver: OTLPReceiver) -> None:
    """The example's defaults need nothing running: the span, metrics and call record print."""
    dotenv = read_env_file(EXAMPLES / "zero_code" / ".env.example")
    assert [dotenv[f"OTEL_{signal}_EXPORTER"] for signal in ("TRACES", "METRICS", "LOGS")] == ["console"] * 3
    assert dotenv["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] == "false"
    # The file as a user sources it, but pointed at the fake API (and a receiver that must get nothing).
    env = example_env(api, otlp_receiver, **{key: value for key, value in dotenv.items() if key.startswith("OTEL_")})
    api.queue(MessageReply(text="billing", usage={"input_tokens": 31, "output_tokens": 1}))
    instrument = Path(sys.executable).with_name("opentelemetry-instrument")
    stdout = run([str(instrument), sys.executable, str(EXAMPLES / "zero_code" / "app.py")], env)
    assert "reply: billing\n" in stdout
    spans, metrics, logs = console_output(stdout)
    (span,) = [span for span in spans if span["name"].startswith("anthropic.")]
    assert (span["name"], span["kind"]) == ("anthropic.messages.create", "SpanKind.CLIENT")
    assert [span["attributes"]["anthropic.request.id"]] == request_ids(stdout)
    assert (span["attributes"]["gen_ai.request.model"], span["attributes"]["gen_ai.usage.input_tokens"]) == (
        "claude-haiku-4-5",
        31,
    )
    assert span["resource"]["attributes"]["service.name"] == "ticket-triage"
    assert {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"} <= metric_names(metrics)
    assert [log["event_name"] for log in logs] == ["anthropic.call"]
    assert otlp_receiver.bodies == []


def test_zero_code_sends_to_the_collector_once_the_exporters_say_otlp(
    api: FakeClaudeAPI, otlp_receiver: OTLPReceiver
) -> None:
    """What the env file's comment says to do once the stack runs: the three exporters to otlp."""
    dotenv = read_env_file(EXAMPLES / "zero_code" / ".env.example")
    assert dotenv["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    dotenv.update({f"OTEL_{signal}_EXPORTER": "otlp" for signal in ("TRACES", "METRICS", "LOGS")})
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


# The README's five-minute path, step 2, as it stands there (the test runs it; keep both in step).
README_INSTALL = 'pip install "./anthropic-otel[cli]" opentelemetry-distro'
README_CONSOLE = """\
python -m anthropic_otel.testing --port 8080 &      # the fake Claude API on 127.0.0.1:8080
export ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ANTHROPIC_API_KEY=sk-ant-fake
opentelemetry-instrument --traces_exporter console --metrics_exporter none --logs_exporter none \\
    python anthropic-otel/examples/zero_code/app.py
"""


def test_the_readme_five_minute_path_prints_one_span_in_the_console(tmp_path: Path) -> None:
    """In a virtualenv with what the README installs, its commands print the span, with no key."""
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    assert f"\n{README_INSTALL}\n" in readme
    assert f"```bash\n{README_CONSOLE}```" in readme
    bin_dir = user_venv("user-readme", "-e .[cli] opentelemetry-distro")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OTEL_", "ANTHROPIC_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    (tmp_path / "anthropic-otel").symlink_to(EXAMPLES.parent)  # where the README's clone would be
    port = free_port()
    commands = README_CONSOLE.replace("8080", str(port)).splitlines()
    fake = subprocess.Popen(
        ["bash", "-c", f"exec {commands[0].split('&')[0]}"], env=env, stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert fake.stdout is not None
        assert fake.stdout.readline().startswith(f"fake Claude API at http://127.0.0.1:{port}")  # it is up
        stdout = run(["bash", "-c", "\n".join(commands[1:])], env, cwd=tmp_path)
    finally:
        fake.terminate()
        fake.wait(timeout=HANG_S)
    assert stdout.startswith("reply: ")
    spans, metrics, logs = console_output(stdout)
    assert (metrics, logs) == ([], [])
    (span,) = spans
    assert span["name"] == "anthropic.messages.create"
    assert [span["attributes"]["anthropic.request.id"]] == request_ids(stdout)
    assert span["attributes"]["gen_ai.request.model"] == "claude-haiku-4-5"
    assert span["attributes"]["gen_ai.response.finish_reasons"] == ["end_turn"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
