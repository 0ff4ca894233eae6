"""The version of anthropic-otel, read by the build (hatch) and by the instrumentation scope."""

__version__ = "0.1.0"
