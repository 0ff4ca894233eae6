"""Request attributes the SDK's own tracing leaves out: sampling settings, stop sequences, the end user.

Semconv recommends `gen_ai.request.temperature`, `top_p`, `top_k` and `stop_sequences` on every
inference span; the SDK (1.14 to 2.15) records none of the first three, and stop sequences only with
its content capture on: they are the application's text. So are they here: recorded only when
content goes on spans and no redaction hook is named, which would never see them
(`stop_sequences=True`), and on the SDK's span left to the SDK.

The request's `metadata.user_id` is the API's own end-user id (documented as a uuid, hash or other
opaque identifier, never a name, e-mail or phone number), recorded as the general registry's
`user.id` on spans and call records, never on metrics; `ANTHROPIC_OTEL_USER_ID=false` leaves it out.

They are read from the body as it goes on the wire, `extra_body` included. Pure, like `attributes`.
"""

from __future__ import annotations

from typing import Optional

from anthropic_otel._read.attributes import Attributes, field

__all__ = ["request_extras"]

# A stop sequence is request configuration, but it is the application's text: bounded all the same.
_MAX_STOP_SEQUENCES = 16
_MAX_TEXT = 256  # characters of one stop sequence or user id (the API's own limit on user_id)


def _number(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def request_extras(body: object, *, user_id: bool = True, stop_sequences: bool = False) -> Attributes:
    """Sampling settings, stop sequences (when `stop_sequences`: content capture is on) and (unless
    `user_id` is False) `user.id` of a Messages or legacy completions request body."""
    attributes: Attributes = {}
    for key, name in (("gen_ai.request.temperature", "temperature"), ("gen_ai.request.top_p", "top_p")):
        value = _number(field(body, name))
        if value is not None:
            attributes[key] = value
    top_k = field(body, "top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool):
        attributes["gen_ai.request.top_k"] = top_k
    stops = field(body, "stop_sequences") if stop_sequences else None
    if isinstance(stops, (list, tuple)) and stops and all(isinstance(stop, str) for stop in stops):
        attributes["gen_ai.request.stop_sequences"] = [stop[:_MAX_TEXT] for stop in stops[:_MAX_STOP_SEQUENCES]]
    if user_id:
        user = field(body, "metadata", "user_id")
        if isinstance(user, str) and user:
            attributes["user.id"] = user[:_MAX_TEXT]
    return attributes
