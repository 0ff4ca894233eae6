"""What the instrumentation supports: read by OpenTelemetry's auto-instrumentation dependency check."""

_instruments = ("anthropic >= 0.40",)

_supports_metrics = True
