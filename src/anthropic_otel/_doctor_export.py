"""Where the telemetry goes, as `anthropic-otel doctor` checks it: the global providers and what
they export to, the OTLP exporters installed, and whether the OTLP endpoint (configured, or the
default one the exporters would use) answers. Never raises: a check that cannot run is a finding.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider

from anthropic_otel._probe import probe

__all__ = ["DEFAULT_ENDPOINTS", "Check", "is_real", "otlp_checks", "provider_checks"]

_SIGNALS = ("TRACES", "METRICS", "LOGS")
# Where OTLP exporters send when no endpoint is configured (the OTLP exporter specification's defaults).
DEFAULT_ENDPOINTS = {"grpc": "localhost:4317", "http/protobuf": "http://localhost:4318"}


@dataclass(frozen=True)
class Check:
    """One finding: `level` is `ok`, `info`, `warn` or `fail`; `hint` says what to do about it."""

    level: str
    topic: str
    message: str
    hint: str = ""


def is_real(provider: object) -> bool:
    """False for OpenTelemetry's stand-ins (proxy, no-op), used while no provider is configured."""
    return not type(provider).__name__.lstrip("_").startswith(("Proxy", "NoOp", "Default"))


def _walk(obj: Any, *paths: str) -> Any:
    """The first attribute path (`a.b`) that `obj` has, or None: SDK internals differ by version."""
    for path in paths:
        value = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if value is not None:
            return value
    return None


def _pipeline(provider: Any) -> list[str]:
    """`Processor(Exporter)` / `Reader(Exporter)` names behind an SDK provider, best effort."""
    stages = _walk(
        provider,
        "_active_span_processor._span_processors",
        "_metric_readers",
        "_sdk_config.metric_readers",
        "_multi_log_record_processor._log_record_processors",
    )
    names = []
    for stage in stages or ():
        exporter = _walk(stage, "span_exporter", "_exporter", "_batch_processor._exporter", "_log_exporter")
        names.append(type(stage).__name__ + (f"({type(exporter).__name__})" if exporter is not None else ""))
    return names


def provider_checks() -> list[Check]:
    found = []
    providers = (
        ("tracer provider", trace.get_tracer_provider(), "spans"),
        ("meter provider", metrics.get_meter_provider(), "metrics"),
        ("logger provider", get_logger_provider(), "call records (logs)"),
    )
    for topic, provider, what in providers:
        name = type(provider).__name__
        if not is_real(provider):
            kind = topic.split()[0]
            hint = f"set one globally (opentelemetry-instrument does), or pass it to instrument({kind}_provider=...)"
            found.append(Check("warn", topic, f"none configured: {what} go nowhere unless given to instrument()", hint))
            continue
        pipeline = _pipeline(provider)
        exporters = ", ".join(pipeline) if pipeline else "no processors or readers: nothing is exported"
        level = "ok" if pipeline else "warn"
        found.append(Check(level, topic, f"{name} ({type(provider).__module__.split('._')[0]}) → {exporters}"))
    for signal in _SIGNALS:
        value = os.environ.get(f"OTEL_{signal}_EXPORTER")
        if value:
            found.append(Check("info", "exporter env", f"OTEL_{signal}_EXPORTER={value}"))
    return found


def _installed(module: str) -> bool:
    """Whether `module` can be imported, without importing it; never raises.

    `importlib.util.find_spec("a.b.c")` imports `a.b` first and raises when that is missing (as
    `opentelemetry.exporter` is where no exporter is installed), instead of returning None.
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def otlp_checks() -> list[Check]:
    configured = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    distro = _installed("opentelemetry.distro")
    protocol = configured or ("grpc" if distro else "http/protobuf")
    found = []
    module = "grpc" if protocol == "grpc" else "http"
    exporters = [os.environ.get(f"OTEL_{signal}_EXPORTER", "otlp") for signal in _SIGNALS]  # the distro's default
    uses_otlp = any("otlp" in exporter for exporter in exporters)
    if uses_otlp and not _installed(f"opentelemetry.exporter.otlp.proto.{module}"):
        package = f"opentelemetry-exporter-otlp-proto-{module}"
        source = (
            "OTEL_EXPORTER_OTLP_PROTOCOL" if configured else "opentelemetry-distro's default" if distro else "default"
        )
        hint = f"pip install {package}, or set OTEL_EXPORTER_OTLP_PROTOCOL to the one installed"
        found.append(
            Check("warn", "OTLP exporter", f"protocol {protocol} ({source}) but {package} is not installed", hint)
        )
    endpoints = {"": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")}
    endpoints.update({f"_{s}": os.environ.get(f"OTEL_EXPORTER_OTLP_{s}_ENDPOINT") for s in _SIGNALS})
    if uses_otlp and not any(endpoints.values()):
        found.append(_default_endpoint_check(protocol))
    for signal, endpoint in endpoints.items():
        if not endpoint:
            continue
        variable = f"OTEL_EXPORTER_OTLP{signal}_ENDPOINT"
        answers, detail = probe(endpoint, protocol)
        if answers:
            found.append(Check("ok", "OTLP endpoint", f"{endpoint} ({variable}, {protocol}) answers: {detail}"))
        else:
            hint = "start the collector (e.g. docker compose -f docker-compose.otel.yml up) or fix the URL"
            found.append(Check("fail", "OTLP endpoint", f"{endpoint} ({variable}) does not answer: {detail}", hint))
    return found


def _default_endpoint_check(protocol: str) -> Check:
    """With no endpoint configured, OTLP exporters send to localhost: whether anything listens there."""
    default = DEFAULT_ENDPOINTS["grpc" if protocol == "grpc" else "http/protobuf"]
    setting = f"OTEL_EXPORTER_OTLP_ENDPOINT is not set: OTLP exporters send to {default} ({protocol})"
    answers, detail = probe(default, protocol)
    if answers:
        return Check("ok", "OTLP endpoint", f"{setting}, which answers: {detail}")
    hint = (
        "start a collector there (docker compose -f docker-compose.otel.yml up -d), set OTEL_EXPORTER_OTLP_ENDPOINT "
        "to yours, or print telemetry instead with OTEL_TRACES_EXPORTER=console"
    )
    return Check("warn", "OTLP endpoint", f"{setting}, which does not answer: {detail}", hint)
