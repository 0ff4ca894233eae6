"""The `anthropic-otel` command: `demo` shows a first Claude trace in one command, `doctor` says why none shows.

    anthropic-otel demo                 # the fake Claude API, no key, no Docker, no network
    anthropic-otel demo --otlp http://localhost:4318    # also export to a running stack
    anthropic-otel demo --live          # the real API (needs ANTHROPIC_API_KEY)
    anthropic-otel doctor [--strict]    # what a user needs to know when no telemetry arrives

The workload lives in `_demo`, the checks in `_doctor`; this module parses arguments and prints
the demo's report (one row per call, then the metric totals) with rich.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

try:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    HAVE_RICH = True
except ImportError:  # the command's one extra dependency; main() says how to install it
    HAVE_RICH = False

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricsData
    from opentelemetry.sdk.trace import ReadableSpan

    from anthropic_otel._demo import DemoRun

__all__ = ["main", "metric_totals", "print_report"]

RICH_HINT = "pip install rich  (or: pip install 'anthropic-otel[cli]')"
DEMO_HINT = "pip install opentelemetry-sdk anthropic  (or: pip install 'anthropic-otel[cli]')"
NONE = "\u2013"  # an en dash: no value
# Metric point attributes that split a metric's totals into rows; all low-cardinality.
BREAKDOWN = (
    "gen_ai.token.type",
    "anthropic.cache.operation",
    "anthropic.cost.category",
    "error.type",
    "anthropic.diagnostic.code",
)


def _wide_console() -> Console:
    """A console as wide as the report when output is not a terminal (pipes, CI logs, tests)."""
    interactive = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(width=None if interactive else 200)


def _ms(seconds: Optional[float]) -> str:
    return NONE if seconds is None else f"{seconds * 1000:,.0f}"


def _tokens(value: Any) -> str:
    return NONE if value is None else f"{int(value):,}"


def _status(attributes: Any) -> str:
    error = attributes.get("error.type")
    status = f"[red]error {error}[/red]" if error else str(attributes.get("anthropic.message.stop_reason") or "ok")
    retries = attributes.get("http.request.resend_count")
    if retries:
        status += f" [yellow]({retries} {'retry' if retries == 1 else 'retries'})[/yellow]"
    return status


def call_table(spans: Sequence[ReadableSpan]) -> Table:
    """One row per recorded call, from its span."""
    table = Table(title="Claude API calls (one span each)", title_justify="left", header_style="bold")
    table.add_column("operation", no_wrap=True)
    table.add_column("request id", no_wrap=True, style="cyan", min_width=28)
    table.add_column("model", no_wrap=True)
    for name in ("in", "out", "cache read", "latency ms", "TTFT ms", "cost USD"):
        table.add_column(name, justify="right")
    table.add_column("route")
    table.add_column("status")
    for span in spans:
        attributes = span.attributes or {}
        latency = (span.end_time - span.start_time) / 1e9 if span.end_time and span.start_time else None
        ttft = attributes.get("gen_ai.response.time_to_first_chunk")
        cost = attributes.get("anthropic.cost.usd")
        table.add_row(
            span.name.removeprefix("anthropic."),
            str(attributes.get("anthropic.request.id") or NONE),
            str(attributes.get("gen_ai.request.model") or NONE),
            _tokens(attributes.get("gen_ai.usage.input_tokens")),
            _tokens(attributes.get("gen_ai.usage.output_tokens")),
            _tokens(attributes.get("gen_ai.usage.cache_read.input_tokens")),
            _ms(latency),
            _ms(ttft if isinstance(ttft, (int, float)) else None),
            NONE if not isinstance(cost, (int, float)) else f"{cost:.6f}",
            str(attributes.get("anthropic.route") or NONE),
            _status(attributes),
        )
    return table


def metric_totals(metrics: Optional[MetricsData]) -> dict[tuple[str, str, str], tuple[int, float, str]]:
    """`{(metric, unit, breakdown): (recordings, total, kind)}` over all points; kind is the class of
    `metric.data` (`Histogram`, `Sum`, `Gauge`)."""
    totals: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, 0.0, ""])
    for resource_metrics in metrics.resource_metrics if metrics else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    attributes = point.attributes or {}
                    breakdown = " ".join(
                        f"{'.'.join(key.split('.')[-2:])}={attributes[key]!s}" for key in BREAKDOWN if key in attributes
                    )
                    entry = totals[(metric.name, metric.unit or "", breakdown)]
                    count = getattr(point, "count", None)  # histograms; sums have a value instead
                    entry[0] += 1 if count is None else count
                    entry[1] += getattr(point, "value", 0) if count is None else getattr(point, "sum", 0)
                    entry[2] = type(metric.data).__name__
    return {key: (int(count), float(total), str(kind)) for key, (count, total, kind) in sorted(totals.items())}


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) or abs(value) >= 100 else f"{value:.4g}"


def metrics_table(metrics: Optional[MetricsData]) -> Table:
    table = Table(title="Metrics (totals from the metric reader)", title_justify="left", header_style="bold")
    table.add_column("metric", no_wrap=True)
    table.add_column("breakdown")
    table.add_column("recordings", justify="right")
    table.add_column("total", justify="right")
    table.add_column("mean", justify="right")
    table.add_column("unit")
    for (name, unit, breakdown), (count, total, kind) in metric_totals(metrics).items():
        mean = _number(total / count) if kind != "Sum" and count else NONE
        table.add_row(name, breakdown or NONE, str(count), NONE if kind == "Gauge" else _number(total), mean, unit)
    return table


def summary_line(spans: Sequence[ReadableSpan]) -> str:
    attributes = [span.attributes or {} for span in spans]

    def total(key: str) -> float:
        return sum(float(value) for a in attributes if isinstance(value := a.get(key), (int, float)))

    errors = sum(1 for a in attributes if a.get("error.type"))
    costs = [float(c) for a in attributes if isinstance(c := a.get("anthropic.cost.usd"), (int, float))]
    cost = f"${sum(costs):.6f}" if costs else NONE
    return (
        f"{len(spans)} calls, {errors} failed, {total('http.request.resend_count'):.0f} retried; tokens: "
        f"{total('gen_ai.usage.input_tokens'):,.0f} in (of which {total('gen_ai.usage.cache_read.input_tokens'):,.0f} "
        f"cache read), {total('gen_ai.usage.output_tokens'):,.0f} out; cost {cost}"
    )


def print_report(console: Console, run: DemoRun) -> None:
    console.print(call_table(run.spans))
    console.print(summary_line(run.spans))
    console.print(metrics_table(run.metrics))
    if run.otlp_endpoint:
        console.print(f"Also exported to {run.otlp_endpoint} (OTLP/HTTP): look for service ticket-triage-demo.")


def demo(args: argparse.Namespace, console: Console) -> int:
    try:
        from anthropic_otel import _demo  # noqa: PLC0415 - needs the OpenTelemetry SDK and anthropic
    except ImportError as error:
        console.print(f"[red]The demo needs {error.name}:[/red] {DEMO_HINT}")
        return 2
    where = "the real Claude API" if args.live else "the local fake Claude API (no key, no network)"
    console.print(f"[bold]anthropic-otel demo[/bold]: a ticket-triage service calling {where}")
    endpoint = args.otlp or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    if endpoint:
        from anthropic_otel._probe import probe  # noqa: PLC0415

        answers, detail = probe(endpoint, "http/protobuf")
        if not answers:  # exporting would only retry for ~20 s at exit; say so now and show it here
            console.print(f"[yellow]OTLP endpoint {endpoint} does not answer ({detail}); not exporting.[/yellow]")
            console.print("  Start the stack first: docker compose -f docker-compose.otel.yml up")
            endpoint = None
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("calling Claude", total=len(_demo.STEPS))

            def on_step(label: str, outcome: str) -> None:
                progress.console.print(f"  [green]✓[/green] {label}: {outcome}")
                progress.advance(task)

            run = _demo.run_demo(live=args.live, otlp_endpoint=endpoint, on_step=on_step)
    except _demo.DemoError as error:
        console.print(f"[red]{error}[/red]")
        return 2
    print_report(console, run)
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="anthropic-otel", description=__doc__.split("\n\n")[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser("demo", help="run an instrumented ticket-triage workload and show its telemetry")
    demo_parser.add_argument("--otlp", metavar="URL", help="also export via OTLP/HTTP, e.g. http://localhost:4318")
    demo_parser.add_argument("--live", action="store_true", help="call the real Claude API (needs ANTHROPIC_API_KEY)")
    doctor_parser = commands.add_parser("doctor", help="check why telemetry might not show up")
    doctor_parser.add_argument("--strict", action="store_true", help="exit 1 when any check warns or fails")
    args = parser.parse_args(argv)
    if not HAVE_RICH:
        sys.stderr.write(f"anthropic-otel: this command needs rich: {RICH_HINT}\n")
        return 2
    console = _wide_console()
    if args.command == "demo":
        return demo(args, console)
    from anthropic_otel import _doctor  # noqa: PLC0415 - loaded after the check for rich (it uses it)

    return _doctor.run(console, strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
