"""Cardinality: metric attributes whose values the application or a user chooses stay bounded.

Model names (request and response, one limiter), error types and batch result types are capped
on metric points; spans keep the real values. Every metric point of every surface carries only
attribute keys of a fixed allow-list, whatever the application passes in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import anthropic_otel
from anthropic_otel import AnthropicInstrumentor
from anthropic_otel._cardinality import ERROR_TYPE_LIMIT, OTHER, ValueLimiter, model_limiter
from anthropic_otel._diagnostics import CODES
from anthropic_otel._read.operations import CUSTOM_OPERATIONS, REGISTRY_OPERATIONS
from anthropic_otel.testing import ErrorReply, FakeClaudeAPI
from tests.conftest import API_KEY, all_points, instrumenting, metric_points, spans_named, user_message
from tests.scenarios import catalogue, run_scenario

DEFAULT_MAX_MODELS = 50
PRICED = "claude-sonnet-4-6"

_CALL = {
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "server.address",
    "server.port",
    "anthropic.route",
}
_COST = {"gen_ai.provider.name", "gen_ai.request.model", "anthropic.route", "anthropic.batch"}
# Every attribute key each metric may carry (the README's metrics table), nothing else.
ALLOWED_KEYS = {
    "gen_ai.client.operation.duration": _CALL | {"error.type"},
    "gen_ai.client.operation.time_to_first_chunk": _CALL | {"error.type"},
    "gen_ai.client.operation.time_per_output_chunk": _CALL | {"error.type"},
    "anthropic.client.retries": _CALL | {"error.type"},
    "gen_ai.invoke_agent.duration": {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "anthropic.route",
        "error.type",
    },
    "gen_ai.execute_tool.duration": {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.tool.name",
        "gen_ai.tool.type",
        "anthropic.route",
        "error.type",
    },
    "gen_ai.client.token.usage": _CALL | {"gen_ai.token.type", "anthropic.batch"},
    "anthropic.client.cache.tokens": _CALL | {"anthropic.cache.operation", "anthropic.batch"},
    "anthropic.client.cost": _COST | {"anthropic.cost.category"},
    "anthropic.client.cache.savings": _COST,
    "anthropic.client.cost.unpriced": _COST,
    "anthropic.client.server_tool.requests": _COST - {"anthropic.batch"} | {"anthropic.server_tool.name"},
    "anthropic.client.batch.results": {
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "server.address",
        "server.port",
        "anthropic.route",
        "anthropic.batch.result.type",
    },
    "anthropic.client.ratelimit.headroom": {
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "server.address",
        "anthropic.ratelimit.type",
    },
    "anthropic.client.diagnostics": {
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "anthropic.route",
        "anthropic.diagnostic.code",
    },
}
# Keys whose values are a fixed vocabulary.
VOCABULARY = {
    "gen_ai.provider.name": {"anthropic", "aws.bedrock", "gcp.vertex_ai"},
    "gen_ai.token.type": {"input", "output"},
    "anthropic.cache.operation": {"read", "write_5m", "write_1h"},
    "anthropic.cost.category": {"input", "cache_write", "cache_read", "output", "web_search"},
    "anthropic.server_tool.name": {"web_search", "web_fetch", "code_execution"},
    "anthropic.ratelimit.type": {"requests", "tokens", "input_tokens", "output_tokens"},
    "anthropic.batch.result.type": {"succeeded", "errored", "canceled", "expired", "unknown"},
    "anthropic.batch": {True, False},
    "anthropic.diagnostic.code": set(CODES),
    "gen_ai.operation.name": REGISTRY_OPERATIONS | CUSTOM_OPERATIONS,
    "gen_ai.tool.type": {"function"},
}


def values_of(reader: InMemoryMetricReader, key: str) -> set[Any]:
    return {attributes[key] for _, attributes in all_points(reader) if key in attributes}


def check_allow_list(reader: InMemoryMetricReader) -> int:
    """Assert every point's keys and fixed-vocabulary values are allowed; returns the number of points."""
    count = 0
    for name, attributes in all_points(reader):
        count += 1
        assert name in ALLOWED_KEYS, f"unexpected metric {name}"
        assert set(attributes) <= ALLOWED_KEYS[name], f"{name}: {sorted(set(attributes) - ALLOWED_KEYS[name])}"
        for key, vocabulary in VOCABULARY.items():
            if key in attributes:
                assert attributes[key] in vocabulary, f"{name}: {key}={attributes[key]!r}"
    return count


@pytest.fixture
def instrumented(
    tracer_provider: TracerProvider, meter_provider: MeterProvider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AnthropicInstrumentor]:
    """Instrumented after the test set its environment (the settings are read by `instrument()`)."""
    with instrumenting(tracer_provider, meter_provider) as instrumentor:
        yield instrumentor


# -- the limiter -------------------------------------------------------------------------------


def test_limiter_admits_known_values_and_the_first_n_then_other_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = ValueLimiter(3, what="things", hint="Raise THINGS.", known=["known"])
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        admitted = [limiter.admit(name) for name in ["a", "b", "known", "c", "d", "e", "a", "known"]]
    assert admitted == ["a", "b", "known", "c", OTHER, OTHER, "a", "known"]
    assert len(limiter) == 3
    assert [record.getMessage() for record in caplog.records] == [
        "anthropic-otel: more than 3 distinct things; 'd' and later new ones are recorded as 'other'. Raise THINGS."
    ]


def test_exact_price_table_models_pass_but_prefixes_and_wildcards_take_slots() -> None:
    limiter = model_limiter(1, ["claude-sonnet-4-6", "claude-x-*"])
    assert limiter.admit("claude-sonnet-4-6") == "claude-sonnet-4-6"
    assert limiter.admit("claude-x-1") == "claude-x-1"  # the one free slot
    assert limiter.admit("claude-x-2") == OTHER
    assert limiter.admit("claude-sonnet-4-6-20990101") == OTHER
    assert limiter.admit("claude-sonnet-4-6") == "claude-sonnet-4-6"


def test_max_models_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_MAX_MODELS", "7")
    assert anthropic_otel._config.Settings.from_environment().max_models == 7
    monkeypatch.delenv("ANTHROPIC_OTEL_MAX_MODELS")
    assert anthropic_otel._config.Settings.from_environment().max_models == DEFAULT_MAX_MODELS


# -- end to end --------------------------------------------------------------------------------


@pytest.mark.usefixtures("instrumented")
def test_500_model_names_make_at_most_cap_plus_one_metric_values(
    api: FakeClaudeAPI,
    span_exporter: InMemorySpanExporter,
    metric_reader: InMemoryMetricReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    names = [f"my-proxy-model-{index:03d}" for index in range(500)]
    client = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    with caplog.at_level(logging.WARNING, logger="anthropic_otel"):
        for index, name in enumerate(names):
            if index % 5 == 4:  # streams report the response model from `message_start`
                for _ in client.messages.create(model=name, max_tokens=8, messages=user_message(), stream=True):
                    pass
            else:
                client.messages.create(model=name, max_tokens=8, messages=user_message())
        client.messages.create(model=PRICED, max_tokens=8, messages=user_message())  # priced: passes after the cap
    client.close()

    first = set(names[:DEFAULT_MAX_MODELS])
    for key in ("gen_ai.request.model", "gen_ai.response.model"):
        assert values_of(metric_reader, key) == first | {OTHER, PRICED}
    durations = metric_points(metric_reader, "gen_ai.client.operation.duration")
    assert sum(point.count for point in durations) == 501
    assert sum(point.count for point in durations if point.attributes["gen_ai.request.model"] == OTHER) == 450
    spans = spans_named(span_exporter, "anthropic.messages.create")
    assert {span.attributes["gen_ai.request.model"] for span in spans} == {*names, PRICED}  # spans keep the name
    assert {span.attributes["gen_ai.response.model"] for span in spans} == {*names, PRICED}
    warnings = [record for record in caplog.records if "ANTHROPIC_OTEL_MAX_MODELS" in record.getMessage()]
    assert len(warnings) == 1
    check_allow_list(metric_reader)


@pytest.mark.usefixtures("instrumented")
def test_error_types_are_capped_on_metrics_only(
    api: FakeClaudeAPI, span_exporter: InMemorySpanExporter, metric_reader: InMemoryMetricReader
) -> None:
    kinds = [f"gateway_error_{index}" for index in range(ERROR_TYPE_LIMIT + 10)]
    api.queue(*[ErrorReply(502, error_type=kind) for kind in kinds])
    client = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    for _ in kinds:
        with pytest.raises(anthropic.APIStatusError):
            client.messages.create(model=PRICED, max_tokens=8, messages=user_message())
    client.close()

    assert values_of(metric_reader, "error.type") == {*kinds[:ERROR_TYPE_LIMIT], OTHER}
    spans = spans_named(span_exporter, "anthropic.messages.create")
    assert [span.attributes["error.type"] for span in spans] == kinds


def test_batch_results_cap_models_and_result_types(
    api: FakeClaudeAPI, monkeypatch: pytest.MonkeyPatch, tracer_provider: TracerProvider
) -> None:
    monkeypatch.setenv("ANTHROPIC_OTEL_MAX_MODELS", "3")
    reader = InMemoryMetricReader()
    client = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    requests = [
        {"custom_id": f"ok-{index}", "params": {"model": f"tuned-{index}", "max_tokens": 8, "messages": user_message()}}
        for index in range(20)
    ] + [
        {
            "custom_id": f"odd-{index}",
            "params": {
                "model": PRICED,
                "max_tokens": 8,
                "messages": user_message(),
                "metadata": {"fake_result": f"new_type_{index}"},
            },
        }
        for index in range(20)
    ]
    batch = client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    with instrumenting(tracer_provider, MeterProvider(metric_readers=[reader])):
        results = list(client.messages.batches.results(batch.id))
    client.close()

    assert len(results) == 40
    assert values_of(reader, "gen_ai.request.model") - {PRICED} == {"tuned-0", "tuned-1", "tuned-2", OTHER}
    assert values_of(reader, "gen_ai.response.model") == {"tuned-0", "tuned-1", "tuned-2", OTHER}
    types: dict[str, float] = {}
    for point in batch_result_points(reader):
        kind = point.attributes["anthropic.batch.result.type"]
        types[kind] = types.get(kind, 0) + point.value
    assert types == {"succeeded": 20, "unknown": 20}
    succeeded = {p.attributes.get("gen_ai.request.model") for p in batch_result_points(reader)} - {None}
    assert succeeded == {"tuned-0", "tuned-1", "tuned-2", OTHER}
    check_allow_list(reader)


def batch_result_points(reader: InMemoryMetricReader) -> list[Any]:
    return metric_points(reader, "anthropic.client.batch.results")


# -- the allow-list, over every surface and over anything the application passes ---------------


@pytest.mark.usefixtures("instrumented")
def test_every_metric_point_of_the_catalogue_has_allowed_keys_only(
    api: FakeClaudeAPI, metric_reader: InMemoryMetricReader
) -> None:
    def make_client(async_: bool = False, **options: Any) -> Any:
        options.setdefault("max_retries", 0)
        cls = anthropic.AsyncAnthropic if async_ else anthropic.Anthropic
        return cls(api_key=API_KEY, base_url=api.base_url, **options)

    scenarios = catalogue()
    with anthropic_otel.route("catalogue"), anthropic_otel.conversation("conv-never-on-metrics"):
        for scenario in scenarios:
            run_scenario(scenario, api, make_client)

    assert check_allow_list(metric_reader) > len(ALLOWED_KEYS)  # not vacuous
    recorded = {name for name, _ in all_points(metric_reader)}
    # All models of the catalogue are priced; the tool runner's metrics are checked in test_agent_metrics.
    assert recorded == set(ALLOWED_KEYS) - {
        "anthropic.client.cost.unpriced",
        "gen_ai.invoke_agent.duration",
        "gen_ai.execute_tool.duration",
    }
    assert values_of(metric_reader, "anthropic.route") == {"catalogue"}


user_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
# Values that must never reach a metric point are marked, so that a collision with a legitimate
# value (a model, a vocabulary word) cannot pass for a leak.
LEAK = "leak:"


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    model=user_text,
    route=user_text,
    secret=user_text,
    stream=st.booleans(),
    count_tokens=st.booleans(),
)
def test_no_user_input_adds_a_metric_attribute_key(
    instrumented: AnthropicInstrumentor,
    api: FakeClaudeAPI,
    metric_reader: InMemoryMetricReader,
    model: str,
    route: str,
    secret: str,
    stream: bool,
    count_tokens: bool,
) -> None:
    """Model and route are the only user values on metrics (capped); conversation, metadata, prompts never."""
    client = anthropic.Anthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)
    ask: dict[str, Any] = {"model": model, "messages": user_message(LEAK + secret), "system": LEAK + secret}
    with anthropic_otel.route(route), anthropic_otel.conversation(LEAK + secret):
        if count_tokens:
            client.messages.count_tokens(**ask)
        else:
            result = client.messages.create(**ask, max_tokens=8, metadata={"user_id": LEAK + secret}, stream=stream)
            if stream:
                for _ in result:
                    pass
    client.close()
    assert check_allow_list(metric_reader) > 0
    user_keys = {"gen_ai.request.model", "gen_ai.response.model", "anthropic.route"}
    for _, attributes in all_points(metric_reader):
        for key, value in attributes.items():
            assert key in user_keys or not (isinstance(value, str) and LEAK in value), (key, value)


def test_operation_names_outside_the_registry_are_the_documented_ones() -> None:
    """Metrics keep `gen_ai.operation.name` to the registry's values where one applies, else the SDK
    method (a custom value, which the registry allows); docs/metrics.md lists every custom one."""
    assert {"chat", "text_completion", "create_agent", "invoke_agent", "execute_tool"} == REGISTRY_OPERATIONS
    text = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    listed = text.split("<!-- custom operations -->")[1].split("<!-- end -->")[0]
    assert set(re.findall(r"`([a-z_.]+)`", listed)) == CUSTOM_OPERATIONS
    assert "count_tokens" in CUSTOM_OPERATIONS
    assert "agents.create" not in CUSTOM_OPERATIONS  # the registry's create_agent applies
