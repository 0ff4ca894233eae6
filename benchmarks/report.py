"""The overhead benchmark's tables, made from the rounds it measured.

Every number is a median over the rounds, followed in brackets by the smallest and largest
per-round value, so that the noise of the machine is in view; what a variant adds is taken
against its base (the `over` column) in the same round, and ratios are per round too. A target
(issue 16) passes when its median is within its limit.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Callable, Optional

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

MEMORY_LIMIT_KIB = 10
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


def _by_key(variants: Sequence[v.Variant]) -> dict[str, v.Variant]:
    return {variant.key: variant for variant in variants}


def call_table(variants: Sequence[v.Variant], rounds: Sequence[Round]) -> str:
    keys = _by_key(variants)
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
    keys = _by_key(variants)
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


# -- targets -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """A named value of a target's detail column."""

    name: str
    value: Value
    digits: int = 0
    unit: str = " µs"
    sign: bool = True


@dataclass(frozen=True)
class Target:
    """`top` ÷ `reference`, per round, within `limit`; a round whose reference is not above zero
    (it added nothing measurable) has no ratio and is left out."""

    label: str
    limit: float
    needs: tuple[str, ...]
    top: Value
    reference: Value
    parts: tuple[Part, ...]

    def value(self, results: Round) -> float:
        bottom = self.reference(results)
        if bottom <= 0:
            raise ZeroDivisionError(bottom)
        return self.top(results) / bottom


def _peer_name(key: str) -> str:
    return next(peer.label for peer in v.PEERS if peer.key == key)


def targets(variants: Sequence[v.Variant]) -> list[Target]:
    """The targets of issue 16 this SDK has variants for (peers' whether installed or not)."""
    keys = _by_key(variants)
    own = keys["ours"].base or "bare"
    ours_adds = added("ours")
    floor_adds = added("floor")
    bare = cpu("bare")

    def allowed(results: Round) -> float:
        """The floor plus 8 % of a bare call: what anthropic-otel may add on its own span."""
        return floor_adds(results) + 0.08 * bare(results)

    found = []
    if "sdk" in keys:
        found.append(
            Target(
                "SDK's span: what anthropic-otel adds ÷ what the SDK's tracing adds",
                0.5,
                ("sdk-ours", "sdk", "bare"),
                added("sdk-ours"),
                added("sdk"),
                (Part("adds", added("sdk-ours")), Part("the SDK's tracing adds", added("sdk"))),
            )
        )
    found.append(
        Target(
            "own span: what anthropic-otel adds ÷ (what the floor adds + 8 % of a bare call)",
            1.0,
            ("ours", own, "floor", "bare"),
            ours_adds,
            allowed,
            (Part("adds", ours_adds), Part("the floor adds", floor_adds), Part("a bare call", bare, sign=False)),
        )
    )
    for peer, limit in (("contrib", 1.0), ("openinference", 0.7), ("openllmetry", 0.6)):
        found.append(
            Target(
                f"own span: what anthropic-otel adds ÷ what {_peer_name(peer)} adds",
                limit,
                ("ours", own, peer, "bare"),
                ours_adds,
                added(peer),
                (Part("adds", ours_adds), Part(f"{_peer_name(peer)} adds", added(peer))),
            )
        )
    for measure, kind in STREAM_KINDS:
        for peer, limit in (("openllmetry", 0.05), ("contrib", 0.01)):
            ours_event, theirs = added("ours", measure), added(peer, measure)
            found.append(
                Target(
                    f"per event of {kind}: what anthropic-otel adds ÷ what {_peer_name(peer)} adds",
                    limit,
                    ("ours", own, peer, "bare"),
                    ours_event,
                    theirs,
                    (Part("adds", ours_event, 2), Part(f"{_peer_name(peer)} adds", theirs, 2)),
                )
            )
    paths = [("own span", "ours", own)] + ([("SDK's span", "sdk-ours", "sdk")] if "sdk" in keys else [])
    for path, key, base in paths:
        found.append(
            Target(
                f"batch result read, {path}: ÷ the same read without anthropic-otel",
                1.4,
                (key, base),
                cpu(key, "batch"),
                cpu(key + BASE, "batch"),
                (
                    Part("read", cpu(key, "batch"), 1, " µs per result", sign=False),
                    Part("without", cpu(key + BASE, "batch"), 1, " µs", sign=False),
                ),
            )
        )
    return found


def _why(variant: Optional[v.Variant]) -> str:
    if variant is None:
        return "not installed"
    return variant.broken or "measured"


def _verdict(holds: bool) -> str:
    return "PASS" if holds else "FAIL"


def target_table(variants: Sequence[v.Variant], rounds: Sequence[Round], memory: Memory) -> str:
    keys = _by_key(variants)
    rows = []
    for target in targets(variants):
        measured = len(series(rounds, target.reference))
        values = series(rounds, target.value)
        if not measured:
            missing = [key for key in target.needs if key not in keys or keys[key].broken]
            reason = "; ".join(f"{key}: {_why(keys.get(key))}" for key in missing) or "no round measured it"
            rows.append([target.label, "—", f"≤ {target.limit:g}", reason, "n/a"])
            continue
        detail = "; ".join(
            f"{part.name} {spread(series(rounds, part.value), part.digits, part.sign)}{part.unit}"
            for part in target.parts
        )
        if len(values) < measured:
            detail += f"; {measured - len(values)} of {measured} rounds left out, their reference adding nothing"
        if not values:
            rows.append([target.label, "—", f"≤ {target.limit:g}", detail, "n/a"])
            continue
        verdict = _verdict(statistics.median(values) <= target.limit)
        rows.append([target.label, spread(values, digits=3), f"≤ {target.limit:g}", detail, verdict])
    paths = [("own span", "ours", keys["ours"].base or "bare")]
    if "sdk" in keys:
        paths.append(("SDK's span", "sdk-ours", "sdk"))
    for path, key, base in paths:
        memory_label = f"memory per open stream, {path}: what anthropic-otel adds (KiB)"
        open_label = f"spans left open by closed and dropped streams, {path}"
        if key not in memory or base not in memory:
            reason = "; ".join(f"{k}: {_why(keys.get(k))}" for k in (key, base) if k not in memory)
            rows.append([memory_label, "—", f"≤ {MEMORY_LIMIT_KIB}", reason, "n/a"])
            rows.append([open_label, "—", "= 0", reason, "n/a"])
            continue
        held = (memory[key][0] - memory[base][0]) / 1024
        detail = f"{memory[key][0] / 1024:.1f} KiB, without {memory[base][0] / 1024:.1f} KiB"
        rows.append([memory_label, f"{held:+.1f}", f"≤ {MEMORY_LIMIT_KIB}", detail, _verdict(held <= MEMORY_LIMIT_KIB)])
        left_open = memory[key][1]
        rows.append([open_label, str(left_open), "= 0", "", _verdict(left_open == 0)])
    return table(["target", "measured: median [min … max]", "limit", "detail", "result"], rows)


def peer_table(variants: Sequence[v.Variant], peers: Sequence[v.Peer]) -> str:
    keys = _by_key(variants)
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
