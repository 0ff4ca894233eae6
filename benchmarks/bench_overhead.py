"""Overhead of anthropic-otel beside the OpenTelemetry floor, the SDK's own tracing and the peers.

    make bench [SDK=1.13.0] [ARGS="--rounds 8 --calls 300"]   # a virtualenv with the peers, then this
    .venvs/sdk-2.15.0/bin/python benchmarks/bench_overhead.py  # any environment: peers if installed

Every variant (`variants.py`: the bare SDK; the OpenTelemetry floor; anthropic-otel on its own
span; on SDK 1.14+ the SDK's own tracing, the floor on its span and anthropic-otel on its span;
each peer installed) is switched on and off inside this one process, round after round, the
order rotating by one each round, so that a noisy neighbour on a shared machine slows them all
alike. A variant's slot in a round times its base (the `over` column, nothing switched on) and
the variant, back to back, the base first in even rounds and last in odd ones: what the variant
adds is taken against a base timed moments before or after, not seconds away. Each side times, on
the calling thread's CPU clock and on the wall clock (`workload.py`), `--calls` non-streaming
calls in process, a quarter as many over loopback HTTP, `--streams` long and short streams of
each kind (an event's cost is the difference between the fastest of each, per event) and, for
the variants that record batches, a batch result read. Memory per open stream, and the spans that
closed and dropped streams leave open, are measured once per variant at the end.

Reported (`report.py`, `targets.py`): medians over the rounds and, in brackets, the smallest and
largest of the per-round values, so that the noise is in view. The targets (issue 16) are ratios
of what is added, per round, judged on their median.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import anthropic
import proofs
import report as tables
import targets
import variants as v
import workload
from report import Memory, Round
from workload import ASK, Sample

from anthropic_otel.testing import FakeClaudeAPI

WARM_UP = 5


@dataclass
class Settings:
    rounds: int
    calls: int
    streams: int
    batch_results: int
    open_streams: int
    peers: bool
    quick: bool = False

    @property
    def http_calls(self) -> int:
        return max(self.calls // 4, 10)


class NotActive(Exception):
    """A variant that did not record what it should have, or recorded what it should not have."""


def prove_active(variant: v.Variant, client: Any) -> None:
    """Warm-up calls, which must each be seen recorded by `variant` (and a bare one records nothing)."""
    proofs.TALLY.mark()
    for _ in range(WARM_UP):
        client.messages.create(**ASK)
    spans = proofs.TALLY.release()
    if variant.proof is None:
        if spans:
            raise NotActive(f"bare, yet {len(spans)} span(s) recorded in {WARM_UP} calls")
    else:
        proven = variant.proof(spans)
        if proven < WARM_UP:
            scopes = sorted({span.instrumentation_scope.name for span in spans if span.instrumentation_scope})
            raise NotActive(f"not active: {proven} of {WARM_UP} calls recorded (spans of {scopes or 'no scope'})")


def timed_work(local: Any, remote: Any, api: FakeClaudeAPI, settings: Settings, batch: bool) -> dict[str, Sample]:
    """Every measure of one side of a slot, after every kind of work once (so that no first-time
    cost, an import, a cache, a connection, is timed)."""
    local.messages.create(**ASK)
    workload.read_stream(local)
    workload.read_managed_stream(local)
    workload.loopback_calls(api, remote, 1)
    if batch:
        workload.batch_results(api, remote, 10)
    measured = {
        "call": workload.calls(local, settings.calls),
        "event": workload.per_event(local, settings.streams),
        "managed": workload.per_event(local, settings.streams, workload.read_managed_stream),
        "http": workload.loopback_calls(api, remote, settings.http_calls),
    }
    if batch:
        measured["batch"] = workload.batch_results(api, remote, settings.batch_results)
    return measured


def check_off(snapshot: proofs.SdkSnapshot, bare: Any) -> list[str]:
    """What is wrong once a variant is switched off: the SDK not as it was (put back), or spans still made."""
    problems = []
    left = snapshot.restore()
    if left:
        problems.append(f"left patched when switched off (put back): {', '.join(left[:4])}")
    proofs.TALLY.mark()
    bare.messages.create(**ASK)
    if proofs.TALLY.release():
        problems.append("still recording spans when switched off")
    return problems


def describe(error: BaseException) -> str:
    return str(error) if isinstance(error, NotActive) else f"raised {type(error).__name__}: {error}"


def run_slot(
    variant: v.Variant,
    clients: dict[str, Any],
    api: FakeClaudeAPI,
    settings: Settings,
    snapshot: proofs.SdkSnapshot,
    *,
    base_first: bool = True,
) -> Optional[tuple[dict[str, Sample], Optional[dict[str, Sample]]]]:
    """One variant's slot of a round: its base timed with nothing switched on, and the variant
    switched on, proven active, timed, switched off and proven off, back to back (base first or
    last as `base_first` says), so that what it adds is taken against a base timed moments apart.
    None if the variant is broken."""
    base: Optional[dict[str, Sample]] = None
    own: Optional[dict[str, Sample]] = None

    def time_base() -> dict[str, Sample]:
        key = variant.base or ""
        return timed_work(clients[key], clients[key + "/http"], api, settings, variant.batch)

    try:
        if variant.base and base_first:
            base = time_base()
        with variant.switch():
            prove_active(variant, clients[variant.key])
            own = timed_work(clients[variant.key], clients[variant.key + "/http"], api, settings, variant.batch)
    except Exception as error:
        variant.broken = describe(error)
    problems = check_off(snapshot, clients["bare"])
    if problems:
        variant.broken = "; ".join(filter(None, [variant.broken, *problems]))
    if variant.broken is not None or own is None:
        return None
    if variant.base and not base_first:
        base = time_base()
    return own, base


def measure(settings: Settings) -> tuple[list[v.Variant], list[Round], dict[str, tuple[float, int]], list[v.Peer]]:
    snapshot = proofs.SdkSnapshot()
    peers = v.installed_peers() if settings.peers else []
    variants = v.build(peers)
    rounds: list[Round] = []
    memory: dict[str, tuple[float, int]] = {}
    with FakeClaudeAPI() as api:
        clients: dict[str, Any] = {}
        for variant in variants:
            clients[variant.key] = workload.in_process_client(**variant.options)
            clients[variant.key + "/http"] = workload.loopback_client(api, **variant.options)
        for number in range(settings.rounds):
            print(f"round {number + 1} of {settings.rounds}", file=sys.stderr, flush=True)
            shift = number % len(variants)
            results: Round = {}
            for variant in variants[shift:] + variants[:shift]:
                if variant.broken is None:
                    slot = run_slot(variant, clients, api, settings, snapshot, base_first=number % 2 == 0)
                    if slot is not None:
                        results[variant.key], base = slot
                        if base is not None:
                            results[variant.key + tables.BASE] = base
            rounds.append(results)
            if variants[0].broken:  # the bare SDK: nothing else means anything without it
                raise SystemExit(f"the bare SDK could not be measured: {variants[0].broken}")
        for variant in variants:
            if variant.broken is None:
                try:
                    with variant.switch():
                        memory[variant.key] = workload.open_streams(
                            clients[variant.key], settings.open_streams, proofs.TALLY.left_open
                        )
                except Exception as error:
                    variant.broken = describe(error)
                check_off(snapshot, clients["bare"])
    return variants, rounds, memory, peers


def report(
    *,
    settings: Settings,
    variants: Sequence[v.Variant],
    rounds: Sequence[Round],
    memory: Memory,
    peers: Sequence[v.Peer],
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    start, end = (" ".join(f"{value:.2f}" for value in loads) for loads in load)
    peer_keys = {peer.key for peer in peers}
    broken = [f"- {x.label}: {x.broken}" for x in variants if x.broken and x.key not in peer_keys]
    parts = [
        "# anthropic-otel overhead (benchmarks/bench_overhead.py)",
        "",
        f"anthropic {anthropic.__version__}, opentelemetry-sdk {v.version_of('opentelemetry-sdk')}, "
        f"Python {platform.python_version()}, {platform.system()} on {os.cpu_count()} CPUs; "
        f"load average {start} at the start, {end} at the end.",
        f"{settings.rounds} rounds; in each, every variant switched on, timed and switched off in turn, the order "
        f"rotating, its base timed just before or after it: {settings.calls} calls in process, "
        f"{settings.http_calls} over loopback HTTP, {settings.streams} long ({workload.LONG} events) and "
        f"{settings.streams} short ({workload.SHORT} events) streams of each kind (the fastest of each counts), "
        f"{settings.batch_results} batch results. CPU: the calling thread's CPU time. Values: median over the "
        "rounds [smallest … largest]; what a variant adds is against its base (`over`) in the same slot. "
        "Peers run with their defaults.",
        "",
        "## Peers",
        "",
        tables.peer_table(variants, peers),
        "",
        "## A call",
        "",
        tables.call_table(variants, rounds),
        "",
        "## Streams, batch results, memory",
        "",
        tables.stream_table(variants, rounds, memory, settings.open_streams),
        "",
        "## The OpenTelemetry floor under a call",
        "",
        tables.floor_table(variants, rounds),
        "",
        "## Targets",
        "",
        targets.target_table(variants, rounds, memory),
    ]
    if settings.quick:
        parts += ["", "A --quick run is a smoke run: too few calls for its verdicts to mean anything."]
    if broken:
        parts += ["", "Broken variants:", *broken]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="rounds of every variant (default 8)")
    parser.add_argument("--calls", type=int, default=300, help="calls per variant and round (default 300)")
    parser.add_argument("--streams", type=int, default=3, help="long and short streams per variant and round")
    parser.add_argument("--batch-results", type=int, default=2000, help="batch results read per variant and round")
    parser.add_argument("--open-streams", type=int, default=200, help="streams held open for the memory measure")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="leave installed peers out")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run of seconds: 2 rounds of 20 calls, 1 stream, small batches"
    )
    args = parser.parse_args()
    settings = Settings(args.rounds, args.calls, args.streams, args.batch_results, args.open_streams, args.peers)
    if args.quick:
        settings = Settings(2, 20, 1, 100, 10, args.peers, quick=True)
    load_start = os.getloadavg()
    variants, rounds, memory, peers = measure(settings)
    print(
        report(
            settings=settings,
            variants=variants,
            rounds=rounds,
            memory=memory,
            peers=peers,
            load=(load_start, os.getloadavg()),
        )
    )


if __name__ == "__main__":
    main()
