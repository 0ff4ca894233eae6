"""The overhead benchmark's tables, made from the rounds it measured.

Every number is a median over the rounds, followed in brackets by the smallest and largest
per-round value, so that the noise of the machine is in view; what a variant adds is taken
against its base (the `over` column) in the same slot of a round, and ratios are per round too.
The targets are `targets.py`'s.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Callable

import variants as v
from workload import Sample

# Per round: variant key -> measure -> sample; under the key + BASE, its base's, timed in its slot.
# Measures: "call" (in process), "http" (loopback), "event" (per event of `create(stream=True)`),
# "managed" (per event of `messages.stream()`), "batch".
Round = dict[str, dict[str, Sample]]
BASE = "|base"
# Measured once per variant: bytes an open stream holds, spans left open by closed and dropped streams.
Memory = dict[str, tuple[float, int]]
Value = Callable[[Round], float]

STREAM_KINDS = (("event", "`create(stream=True)`"), ("managed", "`messages.stream()`"))


def series(rounds: Iterable[Round], value: Value) -> list[float]:
    """`value` of every round that has what it needs (a variant broken in a round has no sample)."""
    values = []
    for results in rounds:
        try:
            values.append(value(results))
        except (KeyError, ZeroDivisionError):
            continue
    return values


def spread(values: Sequence[float], digits: int = 1, sign: bool = False) -> str:
    """`median [min … max]`, or a dash for no values."""
    if not values:
        return "—"
    form = f"{{:{'+' if sign else ''}.{digits}f}}"
    median = form.format(statistics.median(values))
    if len(values) == 1:
        return median
    return f"{median} [{form.format(min(values))} … {form.format(max(values))}]"


def cpu(key: str, measure: str = "call") -> Value:
    return lambda results: results[key][measure].cpu


def wall(key: str, measure: str = "call") -> Value:
    return lambda results: results[key][measure].wall


def added(key: str, measure: str = "call", clock: Callable[[str, str], Value] = cpu) -> Value:
    """What variant `key` adds to its base, timed in the same slot of the round."""
    top, bottom = clock(key, measure), clock(key + BASE, measure)
    return lambda results: top(results) - bottom(results)


def difference(top: Value, bottom: Value) -> Value:
    return lambda results: top(results) - bottom(results)


def ratio(top: Value, bottom: Value) -> Value:
    return lambda results: top(results) / bottom(results)


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def by_key(variants: Sequence[v.Variant]) -> dict[str, v.Variant]:
    return {variant.key: variant for variant in variants}


def call_table(variants: Sequence[v.Variant], rounds: Sequence[Round]) -> str:
    keys = by_key(variants)
    rows = []
    for variant in variants:
        key, base = variant.key, variant.base
        row = [variant.label, keys[base].label if base else "—", spread(series(rounds, cpu(key)))]
        if base is None:
            row += ["—", "—", spread(series(rounds, wall(key))), "—", spread(series(rounds, cpu(key, "http"))), "—"]
        else:
            row += [
                spread(series(rounds, added(key)), sign=True),
                spread(series(rounds, ratio(cpu(key), cpu(key + BASE))), digits=2),
                spread(series(rounds, wall(key))),
                spread(series(rounds, added(key, clock=wall)), sign=True),
                spread(series(rounds, cpu(key, "http"))),
                spread(series(rounds, added(key, "http")), sign=True),
            ]
        rows.append(row)
    header = [
        "variant",
        "over",
        "CPU per call (µs)",
        "adds CPU (µs)",
        "ratio to over",
        "wall per call (µs)",
        "adds wall (µs)",
        "loopback HTTP: CPU per call (µs)",
        "adds (µs)",
    ]
    return table(header, rows)


def stream_table(variants: Sequence[v.Variant], rounds: Sequence[Round], memory: Memory, open_streams: int) -> str:
    rows = []
    for variant in variants:
        key, base = variant.key, variant.base
        row = [variant.label]
        for measure, _ in STREAM_KINDS:
            row.append(spread(series(rounds, cpu(key, measure)), digits=2))
            row.append(spread(series(rounds, added(key, measure)), digits=2, sign=True) if base else "—")
        batch, batch_ratio = "—", "—"
        if variant.batch:
            batch = spread(series(rounds, cpu(key, "batch")))
            if base:
                batch_ratio = spread(series(rounds, ratio(cpu(key, "batch"), cpu(key + BASE, "batch"))), digits=2)
        held, held_added, left_open = "—", "—", "—"
        if key in memory:
            held, left_open = f"{memory[key][0] / 1024:.1f}", str(memory[key][1])
            if base in memory:
                held_added = f"{(memory[key][0] - memory[base or ''][0]) / 1024:+.1f}"
        rows.append([*row, batch, batch_ratio, held, held_added, left_open])
    closed = open_streams // 2
    header = ["variant"]
    for _, name in STREAM_KINDS:
        header += [f"per event, {name} (µs)", "adds (µs)"]
    header += [
        "batch result read (µs)",
        "ratio to over",
        "open stream (KiB)",
        "adds (KiB)",
        f"spans left open ({closed} streams closed, {open_streams - closed} dropped)",
    ]
    return table(header, rows)


def floor_table(variants: Sequence[v.Variant], rounds: Sequence[Round]) -> str:
    keys = by_key(variants)
    paths = [("own span (span and 3 histograms)", "floor", "ours")]
    if "sdk" in keys:
        paths.append(("the SDK's span (3 histograms)", "sdk-floor", "sdk-ours"))
    rows = []
    for label, floor, ours in paths:
        rows.append(
            [
                label,
                spread(series(rounds, added(floor)), sign=True),
                spread(series(rounds, added(ours)), sign=True),
                spread(series(rounds, difference(added(ours), added(floor))), sign=True),
            ]
        )
    header = ["on", "OpenTelemetry calls alone add (µs)", "anthropic-otel adds (µs)", "beyond them (µs)"]
    return table(header, rows)


def peer_table(variants: Sequence[v.Variant], peers: Sequence[v.Peer]) -> str:
    keys = by_key(variants)
    rows = []
    for peer in v.PEERS:
        if peer in peers:
            broken = keys[peer.key].broken
            rows.append([peer.label, v.peer_versions(peer), f"broken: {broken}" if broken else "measured"])
        elif v.version_of(peer.distribution) is None:
            rows.append([peer.label, f"{peer.distribution}: not installed", "—"])
        else:
            rows.append([peer.label, v.peer_versions(peer), "left out (--no-peers)"])
    return table(["peer", "installed", "in this run"], rows)
