"""Message Batches for the fake API: created, ended at once, results as JSONL.

A batch ends as soon as it exists (`processing_status: "ended"` on every retrieve): tests get
results without waiting, and the request counts are final from the start. A request whose
`params.metadata.fake_result` is `errored`, `canceled` or `expired` gets that result instead of
a message. `add_synthetic(n)` makes a batch of `n` results generated on the fly, never held in
memory, for tests of iterating very large result sets.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

__all__ = ["BatchStore"]

_ids = itertools.count(1)
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")


def _timestamp(offset: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


class BatchStore:
    """The batches one fake API knows; thread-safe."""

    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._answer = answer
        self._batches: dict[str, dict[str, Any]] = {}
        self._requests: dict[str, list[dict[str, Any]]] = {}
        self._synthetic: dict[str, int] = {}
        self._lock = threading.Lock()

    def create(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        requests = list(body.get("requests") or [])
        batch_id = f"msgbatch_{next(_ids):024x}"
        counts = dict.fromkeys(("processing", *RESULT_TYPES), 0)
        for request in requests:
            kind = _result_type(request)
            if kind in counts:  # the request counts know only the API's types of today
                counts[kind] += 1
        return self._store(batch_id, requests, counts, base_url)

    def add_synthetic(self, results: int, base_url: str) -> str:
        batch_id = f"msgbatch_{next(_ids):024x}"
        counts = {"processing": 0, "succeeded": results, "errored": 0, "canceled": 0, "expired": 0}
        self._store(batch_id, [], counts, base_url)
        with self._lock:
            self._synthetic[batch_id] = results
        return batch_id

    def _store(
        self, batch_id: str, requests: list[dict[str, Any]], counts: dict[str, int], base_url: str
    ) -> dict[str, Any]:
        batch = {
            "id": batch_id,
            "type": "message_batch",
            "processing_status": "ended",
            "request_counts": counts,
            "created_at": _timestamp(),
            "ended_at": _timestamp(),
            "expires_at": _timestamp(86400),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": f"{base_url}/v1/messages/batches/{batch_id}/results",
        }
        with self._lock:
            self._batches[batch_id] = batch
            self._requests[batch_id] = requests
        return batch

    def get(self, batch_id: str) -> Optional[dict[str, Any]]:
        with self._lock:
            return self._batches.get(batch_id)

    def list(self) -> dict[str, Any]:
        with self._lock:
            data = list(reversed(self._batches.values()))
        return {
            "data": data,
            "has_more": False,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
        }

    def cancel(self, batch_id: str) -> Optional[dict[str, Any]]:
        batch = self.get(batch_id)
        if batch is not None:
            batch["cancel_initiated_at"] = _timestamp()
        return batch

    def delete(self, batch_id: str) -> Optional[dict[str, Any]]:
        with self._lock:
            if self._batches.pop(batch_id, None) is None:
                return None
            self._requests.pop(batch_id, None)
            self._synthetic.pop(batch_id, None)
        return {"id": batch_id, "type": "message_batch_deleted"}

    def results(self, batch_id: str) -> Optional[Iterator[bytes]]:
        """The JSONL lines of a batch's results, generated lazily."""
        with self._lock:
            if batch_id not in self._batches:
                return None
            synthetic = self._synthetic.get(batch_id)
            requests = self._requests.get(batch_id, [])
        if synthetic is not None:
            return self._synthetic_lines(synthetic)
        return (json.dumps(self._result(request)).encode() + b"\n" for request in requests)

    def _result(self, request: dict[str, Any]) -> dict[str, Any]:
        kind = _result_type(request)
        custom_id = request.get("custom_id")
        if kind == "succeeded":
            return {
                "custom_id": custom_id,
                "result": {"type": "succeeded", "message": self._answer(request.get("params") or {})},
            }
        if kind == "errored":
            error = {"type": "invalid_request_error", "message": "fake: this request was scripted to fail"}
            return {"custom_id": custom_id, "result": {"type": "errored", "error": {"type": "error", "error": error}}}
        return {"custom_id": custom_id, "result": {"type": kind}}

    @staticmethod
    def _synthetic_lines(count: int) -> Iterator[bytes]:
        for index in range(count):
            message = {
                "id": f"msg_synthetic_{index:08d}",
                "type": "message",
                "role": "assistant",
                "model": "claude-haiku-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 2, "service_tier": "batch"},
            }
            line = {"custom_id": f"item-{index}", "result": {"type": "succeeded", "message": message}}
            yield json.dumps(line).encode() + b"\n"


def _result_type(request: dict[str, Any]) -> str:
    params = request.get("params") if isinstance(request, dict) else None
    metadata = params.get("metadata") if isinstance(params, dict) else None
    wanted = metadata.get("fake_result") if isinstance(metadata, dict) else None
    # Any other string is a result type the API may add later: the SDK passes it through as is.
    return wanted if isinstance(wanted, str) and wanted else "succeeded"
