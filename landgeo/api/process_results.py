"""The answer of a synchronous execution, as OGC API – Processes – Part 1: Core 1.0 (OGC 18-062r2) prescribes.

The execute request may carry ``outputs`` (which outputs, each ``{"transmissionMode": "value"}``; all of the
process's outputs when absent or empty) and ``response`` (``raw`` — the standard's default — or ``document``):

- ``response: "document"`` (/req/core/process-execute-sync-document): ``200``, ``application/json``, the results
  document ``{"<outputId>": <value>, ...}`` holding the selected outputs;
- ``response: "raw"`` with one output (/req/core/process-execute-sync-raw-value-one): ``200``, the output's value
  itself as its media type (``application/json``);
- ``response: "raw"`` with several outputs (/req/core/process-execute-sync-raw-value-multi): ``200``,
  ``multipart/related``, one part per output with ``Content-ID: <outputId>``.

Every output of landgeo's processes is JSON and transmitted by value (``outputTransmission: ["value"]``): a
``transmissionMode: "reference"`` or another output media type is refused with 400. The processes run
synchronously only (``jobControlOptions: ["sync-execute"]``); ``Prefer: respond-async`` is a preference the server
may not honour (RFC 7240), so such a request is executed synchronously too, without ``Preference-Applied``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from landgeo.api.answers import Answer, json_answer
from landgeo.register.errors import bad

JSON = "application/json"
RESPONSES = ("raw", "document")


def selected_outputs(request: dict, outputs: dict[str, dict]) -> tuple[list[str], str]:
    """The output ids the execute ``request`` asks for (in the process's order) and its ``response`` mode."""
    response = request.get("response", "raw")
    if response not in RESPONSES:
        raise bad(f"response must be raw or document, got {str(response)[:40]!r}")
    wanted = request.get("outputs")
    if wanted is None or wanted == {}:
        return list(outputs), response
    if not isinstance(wanted, dict):
        raise bad('outputs must be an object {"<outputId>": {"transmissionMode": "value"}, ...}')
    for oid, spec in wanted.items():
        if oid not in outputs:
            raise bad(f"unknown output {oid[:40]!r}; outputs: {', '.join(outputs)}")
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise bad(f"outputs.{oid} must be an object")
        mode = spec.get("transmissionMode", "value")
        if mode != "value":
            raise bad(f"outputs.{oid}: transmissionMode {str(mode)[:20]!r} is not offered (outputTransmission: "
                      "value)")
        fmt = spec.get("format") or {}
        media = fmt.get("mediaType", JSON) if isinstance(fmt, dict) else None
        if media != JSON:
            raise bad(f"outputs.{oid}: format must be {{\"mediaType\": \"{JSON}\"}}")
    return [oid for oid in outputs if oid in wanted], response


def results_answer(values: dict[str, Any], selected: list[str], response: str) -> Answer:
    """The 200 answer carrying the ``selected`` outputs of ``values`` in the ``response`` mode."""
    if response == "document":
        return json_answer(200, {oid: values[oid] for oid in selected})
    if len(selected) == 1:
        return json_answer(200, values[selected[0]])
    boundary = f"landgeo-{uuid.uuid4().hex}"
    parts = []
    for oid in selected:
        body = json.dumps(values[oid], ensure_ascii=False, default=str)
        parts.append(f"--{boundary}\r\nContent-Type: {JSON}\r\nContent-ID: <{oid}>\r\n\r\n{body}\r\n")
    payload = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return 200, {"Content-Type": f'multipart/related; boundary="{boundary}"; type="{JSON}"'}, payload


def parse_multipart(content_type: str, payload: bytes) -> dict[str, Any]:
    """The outputs of a ``multipart/related`` raw answer by ``Content-ID`` (for clients and tests)."""
    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    out: dict[str, Any] = {}
    for chunk in payload.decode().split(f"--{boundary}")[1:]:
        if chunk.startswith("--"):
            break
        head, _, body = chunk.strip("\r\n").partition("\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.split("\r\n") if ": " in line)
        out[headers["Content-ID"].strip("<>")] = json.loads(body)
    return out
