"""The benchmark script runs on every SDK of the matrix and prints the tables the README quotes.

A smoke run (`--quick`): what is checked is the shape of the output (every measure, every
scenario, the floor rows), never a timing, which this shared machine cannot promise.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from anthropic_otel._sdk import sdk_has_tracing

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "bench_overhead.py"
# The measures the script declares: each must have its row, with a number per scenario.
_spec = importlib.util.spec_from_file_location("bench_overhead", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_bench)
MEASURES: tuple[str, ...] = _bench.MEASURES
NUMBER = r"[-+]?\d+\.\d+"


def test_quick_run_prints_every_measure_and_the_floor() -> None:
    run = subprocess.run(  # the timeout only catches a hang: a busy machine takes minutes
        [sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=600, check=False
    )
    assert run.returncode == 0, run.stderr
    assert len(MEASURES) == 5
    lines = run.stdout.splitlines()
    scenarios = ["bare SDK", "anthropic-otel"]
    if sdk_has_tracing():
        scenarios += ["SDK's own tracing", "SDK's tracing + anthropic-otel"]
    assert lines[2] == "| measure | " + " | ".join(scenarios) + " | anthropic-otel adds |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    for measure in MEASURES:
        cells = rows[measure].strip("| ").split(" | ")[1:]
        assert len(cells) == len(scenarios) + 1
        assert all(re.fullmatch(rf"{NUMBER}( \(x{NUMBER}\))?", cell) for cell in cells[:-1]), cells
    floors = ["bare SDK (span and 3 histograms)"] + (["SDK's own tracing (3 histograms)"] if sdk_has_tracing() else [])
    for floor in floors:
        cells = rows[floor].strip("| ").split(" | ")[1:]
        assert len(cells) == 3
        assert all(re.fullmatch(NUMBER, cell) for cell in cells), cells
