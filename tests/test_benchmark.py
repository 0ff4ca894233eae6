"""The overhead benchmark runs on every SDK of the matrix, prints its tables, and tells a broken variant.

A smoke run (`--quick`, seconds): what is checked is the shape of the output (every table, every
variant's row with a number in each cell it measures, every target's row with its verdict), never
a timing, which this shared machine cannot promise. The peers are not installed in the test
environments (`scripts/bench` installs them beside the benchmark), so their rows say so.

The benchmark's own guards are checked in process: a variant that records nothing, raises, or
leaves the SDK patched when switched off is reported broken, and the SDK is put back.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import pytest
import wrapt
from opentelemetry.instrumentation.utils import unwrap

from anthropic_otel._sdk import sdk_has_tracing
from anthropic_otel.testing import FakeClaudeAPI

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
SCRIPT = BENCHMARKS / "bench_overhead.py"
NUMBER = r"[-+]?\d+\.\d+"
# Two rounds: a median and the per-round extremes.
SPREAD = rf"{NUMBER} \[{NUMBER} … {NUMBER}\]"

OWN = ["floor: OpenTelemetry calls only, own span", "anthropic-otel, own span"]
if sdk_has_tracing():
    VARIANTS = [
        "bare SDK (its tracing off)",
        "bare SDK (its tracing on no-op spans)",
        *OWN,
        "SDK's own tracing",
        "floor on the SDK's span (3 histograms)",
        "anthropic-otel on the SDK's span",
    ]
else:
    VARIANTS = ["bare SDK", *OWN]
PEERS = {
    "official contrib": "opentelemetry-instrumentation-genai-anthropic",
    "OpenInference": "openinference-instrumentation-anthropic",
    "OpenLLMetry": "opentelemetry-instrumentation-anthropic",
}
# Variants that read batch results (the peers do not instrument batches).
BATCH = {"bare SDK", "bare SDK (its tracing off)", "bare SDK (its tracing on no-op spans)", OWN[1]}
BATCH |= {"SDK's own tracing", "anthropic-otel on the SDK's span"}

PEER_TARGETS = [
    "own span: what anthropic-otel adds ÷ what official contrib adds",
    "own span: what anthropic-otel adds ÷ what OpenInference adds",
    "own span: what anthropic-otel adds ÷ what OpenLLMetry adds",
    "per event of `create(stream=True)`: what anthropic-otel adds ÷ what OpenLLMetry adds",
    "per event of `create(stream=True)`: what anthropic-otel adds ÷ what official contrib adds",
    "per event of `messages.stream()`: what anthropic-otel adds ÷ what OpenLLMetry adds",
    "per event of `messages.stream()`: what anthropic-otel adds ÷ what official contrib adds",
]
OWN_TARGETS = [
    "own span: what anthropic-otel adds ÷ (what the floor adds + 8 % of a bare call)",
    "batch result read, own span: ÷ the same read without anthropic-otel",
    "memory per open stream, own span: what anthropic-otel adds (KiB)",
    "spans left open by closed and dropped streams, own span",
]
SDK_TARGETS = [
    "SDK's span: what anthropic-otel adds ÷ what the SDK's tracing adds",
    "batch result read, SDK's span: ÷ the same read without anthropic-otel",
    "memory per open stream, SDK's span: what anthropic-otel adds (KiB)",
    "spans left open by closed and dropped streams, SDK's span",
]


def installed(distribution: str) -> bool:
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def test_a_quick_run_prints_every_table() -> None:
    """One run, every table checked: one test, since the run is the slow part (a fixture would run once per worker)."""
    output = quick_run()
    check_header(output)
    check_peers(output)
    check_calls(output)
    check_streams_batches_memory(output)
    check_floor(output)
    check_targets(output)


def quick_run() -> str:
    run = subprocess.run(  # the timeout only catches a hang: a busy machine takes minutes
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == ["round 1 of 2", "round 2 of 2"]
    return run.stdout


def tables(output: str) -> dict[str, dict[str, list[str]]]:
    """Each `## heading`'s table: its rows by first cell, the header row under `""`."""
    found: dict[str, dict[str, list[str]]] = {}
    rows: dict[str, list[str]] = {}
    for line in output.splitlines():
        if line.startswith("## "):
            rows = found.setdefault(line[3:], {})
        elif line.startswith("| ") and not line.startswith("|---"):
            cells = line[2:-2].split(" | ")
            rows["" if not rows else cells[0]] = cells[1:]
    return found


def check_header(output: str) -> None:
    lines = output.splitlines()
    assert lines[0] == "# anthropic-otel overhead (benchmarks/bench_overhead.py)"
    assert re.fullmatch(
        rf"anthropic {re.escape(anthropic.__version__)}, opentelemetry-sdk \S+, Python \S+, \w+ on \d+ CPUs; "
        rf"load average {NUMBER} {NUMBER} {NUMBER} at the start, {NUMBER} {NUMBER} {NUMBER} at the end\.",
        lines[2],
    )
    assert lines[3].startswith("2 rounds; in each, every variant switched on, timed and switched off in turn")
    assert list(tables(output)) == [
        "Peers",
        "A call",
        "Streams, batch results, memory",
        "The OpenTelemetry floor under a call",
        "Targets",
    ]


def check_peers(output: str) -> None:
    peers = tables(output)["Peers"]
    assert peers.pop("") == ["installed", "in this run"]
    assert list(peers) == list(PEERS)
    for name, distribution in PEERS.items():
        if installed(distribution):
            assert peers[name][1] == "measured"
        else:
            assert peers[name] == [f"{distribution}: not installed", "—"]


def measured_variants() -> list[str]:
    return VARIANTS + [name for name, distribution in PEERS.items() if installed(distribution)]


def check_calls(output: str) -> None:
    calls = tables(output)["A call"]
    assert len(calls.pop("")) == 8
    assert list(calls) == measured_variants()
    for name, cells in calls.items():
        if name == VARIANTS[0]:  # the base of all: nothing added
            assert [cells[i] for i in (0, 2, 3, 5, 7)] == ["—"] * 5, cells
            assert all(re.fullmatch(SPREAD, cells[i]) for i in (1, 4, 6)), cells
        else:
            assert cells[0] in VARIANTS, cells
            assert all(re.fullmatch(SPREAD, cell) for cell in cells[1:]), (name, cells)


def check_streams_batches_memory(output: str) -> None:
    later = tables(output)["Streams, batch results, memory"]
    assert later.pop("")[-1] == "spans left open (5 streams closed, 5 dropped)"
    assert list(later) == measured_variants()
    for name, cells in later.items():
        base = name == VARIANTS[0]
        assert re.fullmatch(SPREAD, cells[0]), cells
        assert re.fullmatch(SPREAD, cells[2]), cells
        assert (cells[1], cells[3]) == ("—", "—") if base else all(re.fullmatch(SPREAD, c) for c in cells[1:4:2])
        assert re.fullmatch(SPREAD, cells[4]) if name in BATCH else cells[4:6] == ["—", "—"], (name, cells)
        assert re.fullmatch(NUMBER, cells[6]), cells
        assert cells[7] == "—" if base else re.fullmatch(NUMBER, cells[7]), cells
        assert re.fullmatch(r"\d+", cells[8]), cells


def check_floor(output: str) -> None:
    floor = tables(output)["The OpenTelemetry floor under a call"]
    assert floor.pop("") == ["OpenTelemetry calls alone add (µs)", "anthropic-otel adds (µs)", "beyond them (µs)"]
    paths = ["own span (span and 3 histograms)"] + (["the SDK's span (3 histograms)"] if sdk_has_tracing() else [])
    assert list(floor) == paths
    for cells in floor.values():
        assert all(re.fullmatch(SPREAD, cell) for cell in cells), cells


def check_targets(output: str) -> None:
    targets = tables(output)["Targets"]
    assert targets.pop("") == ["measured: median [min … max]", "limit", "detail", "result"]
    expected = OWN_TARGETS[:1] + PEER_TARGETS + OWN_TARGETS[1:2]
    if sdk_has_tracing():
        expected = SDK_TARGETS[:1] + expected + SDK_TARGETS[1:2]
    expected += OWN_TARGETS[2:] + (SDK_TARGETS[2:] if sdk_has_tracing() else [])
    assert list(targets) == expected
    for label, (measured, limit, detail, result) in targets.items():
        assert re.fullmatch(r"[≤=] \d+(\.\d+)?", limit), limit
        peer = next((name for name in PEERS if name in label), None)
        if peer is not None and not installed(PEERS[peer]):
            assert (measured, result) == ("—", "n/a")
            assert detail.endswith(": not installed"), detail
        elif result == "n/a":  # a quick run's rounds can all see their reference add nothing, on a busy machine
            assert measured == "—", measured
            assert re.search(r"(\d+) of \1 rounds left out, their reference adding nothing$", detail), detail
        else:
            assert result in ("PASS", "FAIL"), (label, result)
            assert re.fullmatch(rf"{SPREAD}|{NUMBER}|[-+]?\d+(\.\d)?", measured), measured


# -- the guards, in process ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    """The benchmark's modules, imported as the script imports them (from its own directory)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_overhead

        yield bench_overhead
    finally:
        sys.path.remove(str(BENCHMARKS))


def run_one(bench: Any, api: FakeClaudeAPI, variant: Any) -> Any:
    """One slot of `variant` alone (over the bare SDK, its tracing off); what it measured, or None."""
    settings = bench.Settings(rounds=1, calls=2, streams=1, batch_results=10, open_streams=2, peers=False)
    options: dict[str, Any] = {"max_retries": 0, **({"open_telemetry": False} if sdk_has_tracing() else {})}
    clients = {}
    for key in (variant.key, "bare"):
        clients[key] = bench.workload.in_process_client(**options)
        clients[key + "/http"] = bench.workload.loopback_client(api, **options)
    return bench.run_slot(variant, clients, api, settings, bench.proofs.SdkSnapshot())


def test_a_variant_that_records_no_call_is_broken(bench: Any, api: FakeClaudeAPI) -> None:
    variant = bench.v.Variant("quiet", "records nothing", {}, "bare", proof=bench.v.spans_of("nobody"))
    assert run_one(bench, api, variant) is None
    assert variant.broken == "not active: 0 of 5 calls recorded (spans of no scope)"


def test_a_variant_that_raises_is_broken(bench: Any, api: FakeClaudeAPI) -> None:
    @contextmanager
    def failing() -> Iterator[None]:
        raise RuntimeError("cannot coexist")
        yield

    variant = bench.v.Variant("failing", "raises", {}, "bare", failing)
    assert run_one(bench, api, variant) is None
    assert variant.broken == "raised RuntimeError: cannot coexist"


def test_a_variant_left_patched_is_broken_and_the_sdk_put_back(bench: Any, api: FakeClaudeAPI) -> None:
    original = anthropic.resources.messages.Messages.create

    @contextmanager
    def leaky() -> Iterator[None]:
        yield
        anthropic.resources.messages.Messages.create = lambda self, **kwargs: None  # type: ignore[method-assign,assignment]

    variant = bench.v.Variant("leaky", "leaves a patch", {}, "bare", leaky)
    assert run_one(bench, api, variant) is None
    assert variant.broken == "left patched when switched off (put back): Messages.create"
    assert anthropic.resources.messages.Messages.create is original


def test_a_bare_variant_that_records_spans_is_broken(bench: Any, api: FakeClaudeAPI) -> None:
    tracer = bench.proofs.TRACER_PROVIDER.get_tracer("stray")

    @contextmanager
    def stray() -> Iterator[None]:
        def request(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            with tracer.start_as_current_span("stray"):
                return wrapped(*args, **kwargs)

        wrapt.wrap_function_wrapper("anthropic._base_client", "SyncAPIClient.request", request)
        try:
            yield
        finally:
            unwrap(anthropic._base_client.SyncAPIClient, "request")

    variant = bench.v.Variant("stray", "bare, yet recording", {}, "bare", stray)
    assert run_one(bench, api, variant) is None
    assert variant.broken == "bare, yet 5 span(s) recorded in 5 calls"


def test_a_slot_times_the_variant_and_its_base_alike(bench: Any, api: FakeClaudeAPI) -> None:
    variant = bench.v.Variant("same", "bare again", {}, "bare", batch=True)
    own, base = run_one(bench, api, variant)
    assert variant.broken is None
    assert set(own) == set(base) == {"call", "event", "managed", "http", "batch"}
    assert all(sample.cpu > 0 and sample.wall > 0 for sample in (own["call"], base["call"]))


def test_a_target_is_the_median_of_per_round_ratios_of_what_is_added(bench: Any) -> None:
    report, sample = bench.tables, bench.workload.Sample
    variants = [
        bench.v.Variant("bare", "bare SDK", {}, None),
        bench.v.Variant("floor", "floor", {}, "bare"),
        bench.v.Variant("ours", "anthropic-otel, own span", {}, "bare"),
        bench.v.Variant("contrib", "official contrib", {}, "bare"),
    ]

    def round_of(ours: float, contrib: float) -> Any:
        """A round where the bare call takes 500 µs, the floor adds 100 and the others what is given."""
        calls = {"bare": 500.0, "floor": 600.0, "ours": 500.0 + ours, "contrib": 500.0 + contrib}
        results = {key: {"call": sample(value, value)} for key, value in calls.items()}
        results.update({key + report.BASE: {"call": sample(500.0, 500.0)} for key in calls if key != "bare"})
        return results

    # Contrib adds nothing measurable in the last round: that round has no ratio to it.
    rounds = [round_of(150, 300), round_of(140, 200), round_of(210, 300), round_of(170, -5)]
    rows = tables("## Targets\n" + bench.targets.target_table(variants, rounds, {}))["Targets"]
    floor = rows["own span: what anthropic-otel adds ÷ (what the floor adds + 8 % of a bare call)"]
    # 150, 140, 210 and 170 over 100 + 0.08 x 500 = 140
    assert floor[0] == "1.143 [1.000 … 1.500]"
    assert floor[3] == "FAIL"
    contrib = rows["own span: what anthropic-otel adds ÷ what official contrib adds"]
    assert contrib[0] == "0.700 [0.500 … 0.700]"  # 150 / 300, 140 / 200, 210 / 300
    assert contrib[2].endswith("; 1 of 4 rounds left out, their reference adding nothing")
    assert contrib[3] == "PASS"
