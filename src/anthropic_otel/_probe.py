"""Whether an OTLP endpoint answers, asked the cheap way before anything is exported to it.

An OTLP exporter pointed at nothing does not fail: it retries in the background and delays the
process's exit by its timeout per signal. `anthropic-otel doctor` reports such an endpoint, and
`anthropic-otel demo --otlp` refuses to export to it, so both ask first: a TCP connect, then for
OTLP/HTTP an empty POST that a receiver answers with a status (200, or 400 for the empty body)
and a server that is no OTLP receiver with 404. Standard library only.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

__all__ = ["TIMEOUT_S", "probe"]

TIMEOUT_S = 1.0


def probe(endpoint: str, protocol: str, timeout: float = TIMEOUT_S) -> tuple[bool, str]:
    """Whether an OTLP endpoint answers: a TCP connect, then for OTLP/HTTP an empty POST to /v1/traces."""
    url = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = url.hostname or "localhost"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as error:
        return False, f"nothing accepts connections at {host}:{port} ({error.strerror or error})"
    if protocol == "grpc":
        return True, f"{host}:{port} accepts connections"
    target = endpoint.rstrip("/") + "/v1/traces" if "/v1/" not in url.path else endpoint
    request = urllib.request.Request(
        target, data=b"", method="POST", headers={"content-type": "application/x-protobuf"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return True, f"POST {target} answered {response.status}"
    except urllib.error.HTTPError as error:
        return error.code != 404, f"POST {target} answered {error.code}" + (
            " (is this an OTLP/HTTP receiver?)" if error.code == 404 else ""
        )
    except (OSError, ValueError) as error:
        return False, f"POST {target} got no answer within {timeout:g}s ({getattr(error, 'reason', error)})"
