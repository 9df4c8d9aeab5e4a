"""A refused register write: HTTP status, OGC exception code, one line, and validation findings when any."""

from __future__ import annotations


class WriteError(Exception):
    """A write the register refuses; nothing of it is committed."""

    def __init__(self, status: int, code: str, description: str, findings: list[dict] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.findings = findings or []
        self.headers = headers or {}


def bad(description: str) -> WriteError:
    return WriteError(400, "InvalidParameterValue", description)
