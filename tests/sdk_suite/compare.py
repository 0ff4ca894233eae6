"""Compares the SDK suite's outcomes bare, control and instrumented (`scripts/sdk-suite`), and says why it fails.

    python tests/sdk_suite/compare.py RESULTS_DIR VERSION [VERSION ...]

RESULTS_DIR/VERSION/MODE/ holds what `sdk_suite_plugin` wrote (outcomes-*.json, spans-*.json) and the
run's wall time (seconds). The gate fails on:

- a test that ends differently with the providers set (control) than bare: the set-up disturbs the
  suite by itself, so the plugin must be changed around it (never allow-listed);
- a test that ends differently instrumented than bare, unless `allowlist.toml` lists it for that SDK
  with the reason it differs by design;
- a span of our provider left unended at the end of a run (after a `gc.collect()`);
- an instrumented run whose instrumentation recorded no call (the plugin did not instrument).

Allow-list entries that no longer differ are reported, so that the list shrinks with the code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

MODES = ("bare", "control", "instrumented")
ALLOWLIST = Path(__file__).with_name("allowlist.toml")
# Lines of a failure's text quoted in the report: the exception and the lines that lead to it.
QUOTED_LINES = 12
COUNTED = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")


@dataclass
class Run:
    """One mode's run of one SDK version."""

    outcomes: dict[str, dict[str, Any]]
    seconds: float | None
    spans: list[dict[str, Any]]

    @classmethod
    def load(cls, folder: Path) -> Run | None:
        # One file per group of processes (the providers registered globally, or only given to instrument()).
        paths = sorted(folder.glob("outcomes-*.json"))
        if not paths:
            return None
        outcomes: dict[str, dict[str, Any]] = {}
        for path in paths:
            outcomes.update(json.loads(path.read_text()))
        try:
            seconds: float | None = float((folder / "seconds").read_text())
        except (OSError, ValueError):
            seconds = None
        spans = [json.loads(path.read_text()) for path in sorted(folder.glob("spans-*.json"))]
        return cls(outcomes, seconds, spans)

    def outcome(self, test: str) -> str:
        return str(self.outcomes.get(test, {}).get("outcome", "missing"))

    def counts(self) -> Counter[str]:
        return Counter(entry["outcome"] for entry in self.outcomes.values())

    def unended(self) -> list[dict[str, str]]:
        return [span for worker in self.spans for span in worker.get("unended", [])]

    def calls_recorded(self) -> int:
        return sum(worker.get("calls_recorded", 0) for worker in self.spans)

    def spans_started(self) -> int:
        return sum(worker.get("started", 0) for worker in self.spans)


@dataclass
class Verdict:
    """What one SDK version's runs show."""

    version: str
    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def load_allowlist(path: Path) -> dict[tuple[str, str], str]:
    """(sdk version or "*", test id) -> reason. Every entry must name a test and give a reason."""
    entries = tomllib.loads(path.read_text()).get("allow", [])
    allowed: dict[tuple[str, str], str] = {}
    for entry in entries:
        test, reason = entry.get("test"), str(entry.get("reason", "")).strip()
        if not test or not reason:
            raise SystemExit(f"{path}: every [[allow]] entry needs a test and a reason: {entry}")
        allowed[(str(entry.get("sdk", "*")), str(test))] = reason
    return allowed


def quote(text: str) -> str:
    """The end of a failure's text (where pytest puts the exception), indented for the report."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join("        " + line for line in lines[-QUOTED_LINES:])


def differing(bare: Run, other: Run) -> list[str]:
    tests = set(bare.outcomes) | set(other.outcomes)
    return sorted(test for test in tests if bare.outcome(test) != other.outcome(test))


def judge(version: str, runs: dict[str, Run], allowlist: dict[tuple[str, str], str]) -> Verdict:
    verdict = Verdict(version)
    bare = runs["bare"]
    upset = set()
    if "control" in runs:
        upset = set(differing(bare, runs["control"]))
        for test in sorted(upset):
            verdict.problems.append(
                f"SET-UP  {test}: bare {bare.outcome(test)}, control {runs['control'].outcome(test)}"
                " (the providers alone change it: configure the plugin around it)\n"
                + quote(runs["control"].outcomes.get(test, {}).get("text", ""))
            )
    if "instrumented" in runs:
        instrumented = runs["instrumented"]
        for test in differing(bare, instrumented):
            if test in upset:
                continue
            reason = allowlist.get((version, test)) or allowlist.get(("*", test))
            change = f"bare {bare.outcome(test)}, instrumented {instrumented.outcome(test)}"
            if reason:
                verdict.allowed.append(f"{test}: {change} ({reason})")
                continue
            text = instrumented.outcomes.get(test, {}).get("text") or bare.outcomes.get(test, {}).get("text", "")
            verdict.problems.append(f"DIFFERS {test}: {change}\n" + quote(text))
        if instrumented.calls_recorded() == 0:
            verdict.problems.append("INACTIVE the instrumented run recorded no call: the plugin did not instrument")
        still = set(differing(bare, instrumented))
        for sdk, test in allowlist:
            if sdk in (version, "*") and test in bare.outcomes and test not in still:
                verdict.stale.append(test)
    for mode, run in runs.items():
        opened: Counter[tuple[str, str]] = Counter((span["test"], span["name"]) for span in run.unended())
        for (test, name), count in sorted(opened.items()):
            verdict.problems.append(f"UNENDED {mode}: {count} x span {name!r} started by {test}")
    return verdict


def counts_line(run: Run) -> str:
    counts = run.counts()
    text = ", ".join(f"{counts[key]} {key}" for key in COUNTED if counts[key] or key in ("passed", "failed"))
    seconds = f"{run.seconds:.0f} s" if run.seconds is not None else "? s"
    extra = f"; {run.spans_started()} spans in our provider" if run.spans and run.spans_started() else ""
    if run.calls_recorded():
        extra += f", {run.calls_recorded()} calls recorded by anthropic-otel"
    return f"{text} in {seconds}{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path)
    parser.add_argument("versions", nargs="+")
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--modes", default=" ".join(MODES), help="the modes that were run, space-separated")
    parser.add_argument("--wall", type=float, default=None, help="the whole stage's wall time, in seconds")
    args = parser.parse_args(argv)
    allowlist = load_allowlist(args.allowlist)

    verdicts: list[Verdict] = []
    print("\n== anthropic SDK test suite: outcomes per mode")
    for version in args.versions:
        modes = [mode for mode in MODES if mode == "bare" or mode in args.modes.split()]
        runs = {mode: run for mode in modes if (run := Run.load(args.results / version / mode)) is not None}
        if "bare" not in runs:
            print(f"anthropic {version}: no bare run recorded")
            verdicts.append(Verdict(version, problems=["MISSING the bare run recorded no outcome"]))
            continue
        for mode, run in runs.items():
            print(f"anthropic {version:8} {mode:12} {counts_line(run)}")
        verdicts.append(judge(version, runs, allowlist))

    for verdict in verdicts:
        if verdict.allowed:
            print(f"\n-- anthropic {verdict.version}: {len(verdict.allowed)} allow-listed differences")
            print("\n".join("   " + line for line in verdict.allowed))
        if verdict.stale:
            print(f"\n-- anthropic {verdict.version}: allow-list entries that no longer differ (remove them)")
            print("\n".join("   " + line for line in verdict.stale))
        if verdict.problems:
            print(f"\n-- anthropic {verdict.version}: {len(verdict.problems)} problems")
            print("\n".join("   " + line for line in verdict.problems))

    problems = sum(len(verdict.problems) for verdict in verdicts)
    wall = f" in {args.wall / 60:.1f} min" if args.wall is not None else ""
    if problems:
        print(f"\nsdk-suite FAILED{wall}: {problems} problems (differing outcomes, unended spans), listed above")
        return 1
    print(f"\nsdk-suite passed{wall}: every test ends instrumented as bare (allow-list aside), every span ended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
