"""What `anthropic-otel demo` prints: the calls it made (one span each), the totals, the metrics.

Written for a terminal of 80 columns: each call is a few short lines in five columns rather than
one line of eleven, and each metric's breakdowns are indented rows under its name. Money is
printed for people (`$0.0071`), while spans and metrics keep the full precision. The token totals
add the batch results' tokens to the calls' own, as the token metric does, so that both agree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from rich import box
from rich.table import Table

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics.export import MetricsData
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = ["NONE", "Tally", "call_table", "metric_totals", "metrics_table", "money", "summary"]

NONE = "\u2013"  # an en dash: no value
# Metric point attributes that split a metric's totals into rows; all low-cardinality.
BREAKDOWN = (
    "gen_ai.token.type",
    "anthropic.cache.operation",
    "anthropic.cost.category",
    "error.type",
    "anthropic.diagnostic.code",
)


def money(usd: float) -> str:
    """Dollars as people read them: cents from $1 up, two significant digits below ($0.0071)."""
    if usd == 0:
        return "$0"
    if abs(usd) >= 1:
        return f"${usd:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(abs(usd))))
    return f"${usd:.{decimals}f}"


def _tokens(value: Any) -> str:
    return NONE if value is None else f"{int(value):,}"


def _ms(seconds: Optional[float]) -> str:
    return NONE if seconds is None else f"{seconds * 1000:,.0f}"


def _status(attributes: Mapping[str, Any]) -> str:
    error = attributes.get("error.type")
    status = f"[red]error {error}[/red]" if error else str(attributes.get("anthropic.message.stop_reason") or "ok")
    retries = attributes.get("http.request.resend_count")
    if retries:
        status += f" [yellow]({retries} {'retry' if retries == 1 else 'retries'})[/yellow]"
    return status


def _token_cell(attributes: Mapping[str, Any]) -> str:
    """`in / out`, then the cache's part of the input on a line of its own."""
    tokens_in, tokens_out = attributes.get("gen_ai.usage.input_tokens"), attributes.get("gen_ai.usage.output_tokens")
    if tokens_in is None and tokens_out is None:
        return NONE
    lines = [f"{_tokens(tokens_in)} / {_tokens(tokens_out)}"]
    for key, label in (("cache_read", "read"), ("cache_creation", "write")):
        cached = attributes.get(f"gen_ai.usage.{key}.input_tokens")
        if cached:
            lines.append(f"[dim]{label} {cached:,}[/dim]")
    return "\n".join(lines)


def call_table(spans: Iterable[ReadableSpan]) -> Table:
    """One row per recorded call, from its span: what it was, its request id, tokens, time, cost.

    Each row is a few short lines, so that the table fits 80 columns with the request id whole.
    """
    table = Table(title="Claude API calls (one span each)", title_justify="left", header_style="bold")
    table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
    table.add_column("\ncall\n[dim]route[/dim]", min_width=16, overflow="fold")
    table.add_column("request id\n[dim]model[/dim]\nstatus", min_width=28)
    table.add_column("\ntokens\nin / out", justify="right", min_width=11, no_wrap=True)
    table.add_column("\nms\n[dim]TTFT[/dim]", justify="right", no_wrap=True)
    table.add_column("\n\ncost", justify="right", min_width=9, no_wrap=True)
    for span in spans:
        attributes = span.attributes or {}
        latency = (span.end_time - span.start_time) / 1e9 if span.end_time and span.start_time else None
        ttft = attributes.get("gen_ai.response.time_to_first_chunk")
        cost = attributes.get("anthropic.cost.usd")
        table.add_row(
            f"{span.name.removeprefix('anthropic.messages.')}\n[dim]{attributes.get('anthropic.route') or NONE}[/dim]",
            f"{attributes.get('anthropic.request.id') or NONE}\n"
            f"[dim]{attributes.get('gen_ai.request.model') or NONE}[/dim]\n{_status(attributes)}",
            _token_cell(attributes),
            _ms(latency) + (f"\n[dim]{_ms(ttft)}[/dim]" if isinstance(ttft, (int, float)) else ""),
            money(cost) if isinstance(cost, (int, float)) else NONE,
            end_section=True,
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


def _amount(value: float, unit: str) -> str:
    if unit == "USD":
        return money(value)
    if unit == "s":
        return f"{value * 1000:,.0f} ms"
    if unit == "1":
        return f"{value:.0%}"
    return f"{value:,.0f}" if value == int(value) or abs(value) >= 100 else f"{value:.3g}"


def metrics_table(metrics: Optional[MetricsData]) -> Table:
    """Each metric's name (and unit), then one indented row per breakdown that splits it."""
    table = Table(title="Metrics (totals from the metric reader)", title_justify="left", header_style="bold")
    table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
    table.add_column("metric\n  [dim]breakdown[/dim]", overflow="fold")
    for name in ("recordings", "total", "mean"):
        table.add_column(name, justify="right", no_wrap=True)
    rows: dict[tuple[str, str], list[tuple[str, int, float, str]]] = defaultdict(list)
    for (name, unit, breakdown), (count, total, kind) in metric_totals(metrics).items():
        rows[(name, unit)].append((breakdown, count, total, kind))
    for (name, unit), series in rows.items():
        label = name + ("" if unit in ("", "1", "s", "USD") else f" [dim]{unit}[/dim]")
        cells = []
        for breakdown, count, total, kind in series:
            if kind == "Histogram":  # only histograms count their recordings; a sum or gauge has one value
                cells.append((breakdown, f"{count:,}", _amount(total, unit), _amount(total / count, unit)))
            elif kind == "Gauge":  # the last value of each series: their mean is what a reader can use
                cells.append((breakdown, NONE, NONE, _amount(total / count, unit)))
            else:
                cells.append((breakdown, NONE, _amount(total, unit), NONE))
        if len(cells) == 1 and not cells[0][0]:
            table.add_row(label, *cells[0][1:])
            continue
        table.add_row(label)
        for breakdown, *numbers in cells:
            table.add_row(f"  [dim]{breakdown or NONE}[/dim]", *numbers)
    return table


@dataclass
class Tally:
    """What a run's spans add up to, kept as counts (a long run need not keep its spans)."""

    calls: int = 0
    failed: int = 0
    retried: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cache_read: int = 0
    batch_results: int = 0
    batch_in: int = 0
    batch_out: int = 0
    operations: dict[str, int] = field(default_factory=dict)

    def add(self, spans: Iterable[ReadableSpan]) -> None:
        for span in spans:
            attributes: Mapping[str, Any] = span.attributes or {}

            def count(key: str, a: Mapping[str, Any] = attributes) -> int:
                value = a.get(key)
                return int(value) if isinstance(value, (int, float)) else 0

            self.calls += 1
            self.failed += "error.type" in attributes
            self.retried += count("http.request.resend_count") > 0
            self.tokens_in += count("gen_ai.usage.input_tokens")
            self.tokens_out += count("gen_ai.usage.output_tokens")
            self.cache_read += count("gen_ai.usage.cache_read.input_tokens")
            self.batch_results += sum(
                count(f"anthropic.batch.results.{kind}") for kind in ("succeeded", "errored", "canceled", "expired")
            )
            self.batch_in += count("anthropic.batch.results.input_tokens")
            self.batch_out += count("anthropic.batch.results.output_tokens")
            operation = span.name.removeprefix("anthropic.messages.")
            self.operations[operation] = self.operations.get(operation, 0) + 1


def summary(tally: Tally, metrics: Optional[MetricsData]) -> str:
    """The run in a few lines; the tokens as the token metric counts them, the cost from the metric."""
    cost = sum(
        total for (name, _, _), (_, total, _) in metric_totals(metrics).items() if name == "anthropic.client.cost"
    )
    results = f" and {tally.batch_results:,} batch results" if tally.batch_results else ""
    lines = [
        f"{tally.calls:,} calls{results}: {tally.failed:,} failed, {tally.retried:,} retried by the SDK",
        f"tokens: {tally.tokens_in + tally.batch_in:,} in ({tally.cache_read:,} read from the cache), "
        f"{tally.tokens_out + tally.batch_out:,} out",
    ]
    if tally.batch_results:
        lines.append(f"        of which batch results: {tally.batch_in:,} in, {tally.batch_out:,} out")
    lines.append(f"cost:   {money(cost)} at list prices")
    return "\n".join(lines)
