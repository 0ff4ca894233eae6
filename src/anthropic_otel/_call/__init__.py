"""The life of one API call, from the SDK's `request()` to its span, metrics and records."""
