"""The targets of issue 16, each a ratio per round of what anthropic-otel adds to a reference,
judged on its median; and the memory and open-span targets, measured once per variant."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import variants as v
from report import BASE, STREAM_KINDS, Memory, Round, Value, added, by_key, cpu, series, spread, table

MEMORY_LIMIT_KIB = 10


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
    keys = by_key(variants)
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
    keys = by_key(variants)
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
