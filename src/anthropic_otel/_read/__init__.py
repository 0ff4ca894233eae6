"""Pure readers: request, response, headers, content and prices to attributes and numbers; no OpenTelemetry state."""
