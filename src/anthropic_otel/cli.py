"""The `anthropic-otel` command: `demo` shows a first Claude trace in one command, `doctor` says why none shows.

    anthropic-otel demo                 # the fake Claude API, no key, no Docker, no network
    anthropic-otel demo --otlp http://localhost:4318    # also export to a running stack
    anthropic-otel demo --otlp http://localhost:4318 --for 5m   # keep a workload going meanwhile
    anthropic-otel demo --live          # the real API (needs ANTHROPIC_API_KEY)
    anthropic-otel doctor [--strict]    # what a user needs to know when no telemetry arrives

The workload lives in `_demo_workload`, its run in `_demo`, the report in `_demo_report`, the
checks in `_doctor`; this module parses arguments and shows the run's progress with rich.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

try:
    from rich.console import Console
    from rich.markup import escape
    from rich.padding import Padding
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    HAVE_RICH = True
except ImportError:  # the command's one extra dependency; main() says how to install it
    HAVE_RICH = False

if TYPE_CHECKING:
    from anthropic_otel._demo import DemoRun
    from anthropic_otel._demo_report import Tally

__all__ = ["main", "parse_duration", "print_report"]

RICH_HINT = "pip install rich  (or: pip install 'anthropic-otel[cli]')"
DEMO_HINT = "pip install opentelemetry-sdk anthropic  (or: pip install 'anthropic-otel[cli]')"
_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """Seconds in `90`, `90s`, `5m` or `1h`; argparse's type for `--for`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def _console() -> Console:
    """The terminal's width, or 100 columns when output is not a terminal (pipes, CI logs, tests)."""
    interactive = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(width=None if interactive else 100)


def print_report(console: Console, run: DemoRun) -> None:
    from anthropic_otel._demo_report import call_table, metrics_table, summary  # noqa: PLC0415 - rich

    if run.rounds > 1:
        operations = ", ".join(f"{count:,} {name}" for name, count in sorted(run.tally.operations.items()))
        console.print(f"[bold]{run.rounds} rounds[/bold] of the workload: {operations}")
    else:
        console.print(call_table(run.spans))
    console.print(summary(run.tally, run.metrics))
    console.print(metrics_table(run.metrics))
    if run.otlp_endpoint:
        console.print(f"Also exported to {run.otlp_endpoint} (OTLP/HTTP): look for service ticket-triage-demo.")


def _otlp_endpoint(args: argparse.Namespace, console: Console) -> Optional[str]:
    endpoint: Optional[str] = args.otlp or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    if endpoint:
        from anthropic_otel._probe import probe  # noqa: PLC0415

        answers, detail = probe(endpoint, "http/protobuf")
        if not answers:  # exporting would only retry for ~20 s at exit; say so now and show it here
            console.print(f"[yellow]OTLP endpoint {endpoint} does not answer ({detail}); not exporting.[/yellow]")
            console.print("  Start the stack first: docker compose -f docker-compose.otel.yml up -d")
            return None
    return endpoint


def _tally_text(tally: Tally) -> str:
    return f"{tally.calls:,} calls, {tally.failed:,} failed, {tally.retried:,} retried"


def demo(args: argparse.Namespace, console: Console) -> int:
    try:
        from anthropic_otel import _demo, _demo_workload  # noqa: PLC0415 - need the OpenTelemetry SDK, anthropic
    except ImportError as error:
        console.print(f"[red]The demo needs {error.name}:[/red] {DEMO_HINT}")
        return 2
    where = "the real Claude API" if args.live else "the local fake Claude API"
    console.print(f"[bold]anthropic-otel demo[/bold]: a ticket-triage service calling {where}")
    endpoint = _otlp_endpoint(args, console)
    seconds = args.duration
    steps = _demo_workload.LIVE_ROUND if seconds is not None else _demo_workload.STEPS
    if seconds is None:
        columns: tuple[ProgressColumn, ...] = (
            SpinnerColumn(),
            TextColumn("calling Claude"),
            BarColumn(),
            MofNCompleteColumn(),
        )
    else:
        console.print(f"Running for {seconds:g} s, the same {len(steps)} steps in each round (Ctrl-C ends it early)")
        columns = (SpinnerColumn(), TextColumn("{task.fields[calls]:,} calls"), BarColumn(), TimeElapsedColumn())
    start = time.monotonic()
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("", total=len(steps) if seconds is None else seconds, calls=0)

            def on_step(step: _demo.StepDone) -> None:
                if step.round == 0:
                    progress.console.print(f"  [green]✓[/green] {escape(step.label)}: {escape(step.outcome)}")
                    for code, message in step.findings:
                        explained = _demo_workload.EXPLAINED.get(code)
                        note = f"\n[dim]({escape(explained)})[/dim]" if explained else ""
                        progress.console.print(
                            Padding(f"[yellow]diagnostic {code}[/yellow]: {escape(message)}{note}", (0, 0, 0, 4))
                        )
                if seconds is None:
                    progress.advance(task)
                else:
                    progress.update(task, completed=min(time.monotonic() - start, seconds), calls=step.calls)

            def on_round(rounds: int, tally: Tally) -> None:
                if seconds is not None:
                    elapsed = time.monotonic() - start
                    progress.console.print(f"  round {rounds} done at {elapsed:,.0f} s: {_tally_text(tally)} so far")

            until = None if seconds is None else start + seconds
            run = _demo.run_demo(
                live=args.live, otlp_endpoint=endpoint, on_step=on_step, steps=steps, until=until, on_round=on_round
            )
    except _demo.DemoError as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        return 2
    print_report(console, run)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="anthropic-otel", description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="run an instrumented ticket-triage workload and show its telemetry")
    demo_parser.add_argument("--otlp", metavar="URL", help="also export via OTLP/HTTP, e.g. http://localhost:4318")
    demo_parser.add_argument("--live", action="store_true", help="call the real Claude API (needs ANTHROPIC_API_KEY)")
    demo_parser.add_argument(
        "--for",
        dest="duration",
        metavar="DURATION",
        type=parse_duration,
        help="keep a mixed workload going for this long (90s, 5m, 1h), for a dashboard to watch",
    )
    doctor_parser = commands.add_parser("doctor", help="check why telemetry might not show up")
    doctor_parser.add_argument("--strict", action="store_true", help="exit 1 when any check warns or fails")
    args = parser.parse_args(argv)
    if args.command == "demo" and args.live and args.duration is not None:
        parser.error("--for runs against the fake API only: with --live, every call of every round would cost money")
    if not HAVE_RICH:
        sys.stderr.write(f"anthropic-otel: this command needs rich: {RICH_HINT}\n")
        return 2
    console = _console()
    if args.command == "demo":
        return demo(args, console)
    from anthropic_otel import _doctor  # noqa: PLC0415 - loaded after the check for rich (it uses it)

    return _doctor.run(console, strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
