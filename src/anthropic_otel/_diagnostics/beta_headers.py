"""`beta_header_unknown`: an `anthropic-beta` value the installed SDK has never heard of.

A misspelt or outdated beta name is not rejected by the API: the feature just does not switch on.
The SDK ships the names it knows as the `Literal` part of `AnthropicBetaParam`
(`anthropic.types.anthropic_beta_param`, on every SDK from 0.40 to 2.x); `betas=[...]` and an
explicit `anthropic-beta` header both end up as one comma-joined header, which the call's
`anthropic.beta` attribute already splits. The known names are read once per process. An SDK
without that type makes the detector silent rather than guess.

The SDK's own helpers also send betas of their own (`beta.messages.parse` adds its structured
outputs beta), which the typed list may lack (SDK 0.121 sends `structured-outputs-2025-12-15`
without listing it). A header the user did not write is no mistake of theirs: every beta name
written in the SDK's own beta resources and helpers counts as known too, read from its source
files the first time a name is not in the typed list.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args

from anthropic_otel._diagnostics.findings import CODES, Finding

__all__ = ["known_betas", "sdk_sent_betas", "unknown_betas"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def known_betas() -> frozenset[str]:
    """The beta names of the installed SDK's `AnthropicBetaParam`; empty if it has none."""
    try:
        alias = importlib.import_module("anthropic.types.anthropic_beta_param").AnthropicBetaParam
    except Exception:
        return frozenset()
    names: set[str] = set()
    pending: list[Any] = [alias]
    while pending:
        for argument in get_args(pending.pop()):
            if isinstance(argument, str):
                names.add(argument)
            else:
                pending.append(argument)
    return frozenset(names)


_BETA_NAME = re.compile(rb"""["']([a-z0-9]+(?:-[a-z0-9]+)*-20\d\d-\d\d-\d\d)["']""")
# Where the SDK's code (not its types) names the betas it sends itself.
_SENDERS = ("resources/beta", "lib")


@functools.lru_cache(maxsize=1)
def sdk_sent_betas() -> frozenset[str]:
    """The beta names written in the installed SDK's beta resources and helpers (the ones it may send itself)."""
    try:
        root = Path(importlib.import_module("anthropic").__file__ or "").parent
    except Exception:
        return frozenset()
    names: set[str] = set()
    for folder in _SENDERS:
        for path in (root / folder).rglob("*.py"):
            try:
                names.update(match.decode("ascii") for match in _BETA_NAME.findall(path.read_bytes()))
            except OSError:
                continue
    return frozenset(names)


def unknown_betas(values: Iterable[str]) -> list[Finding]:
    """One finding per beta value the SDK does not know, with the closest known name if any."""
    known = known_betas()
    if not known:
        return []
    findings = []
    for value in values:
        if value in known or value in sdk_sent_betas():
            continue
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
        attributes: dict[str, Any] = {"anthropic.diagnostic.beta": value}
        hint = ""
        if close:
            attributes["anthropic.diagnostic.suggestion"] = close[0]
            hint = f" (did you mean {close[0]!r}?)"
        findings.append(
            Finding(
                "beta_header_unknown",
                f"anthropic-beta {value!r} is not a beta the installed SDK knows{hint}: "
                f"{CODES['beta_header_unknown'].fix}",
                attributes,
            )
        )
    return findings
