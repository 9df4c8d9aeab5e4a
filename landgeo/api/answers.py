"""Answers of the write side of the API (Part 4, Processes): status, headers, body, and the WSGI call."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from landgeo.register.errors import WriteError

Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, doc: Any, headers: dict[str, str] | None = None,
                ctype: str = "application/json") -> Answer:
    return status, {"Content-Type": ctype, **(headers or {})}, json.dumps(doc, ensure_ascii=False,
                                                                          default=str).encode()


def error_answer(exc: WriteError) -> Answer:
    """An OGC exception body (code, description) plus the findings of a refused write."""
    doc: dict[str, Any] = {"code": exc.code, "description": exc.description}
    if exc.findings:
        doc["findings"] = exc.findings
    return json_answer(exc.status, doc, exc.headers)


def send(start_response, answer: Answer):
    status, headers, body = answer
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    start_response(f"{status} {reason}", [*headers.items(), ("Content-Length", str(len(body)))])
    return [body]
