"""A refused register write: HTTP status, OGC exception code, one line, and validation findings when any."""

from __future__ import annotations

import datetime as dt


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


def retired(collection: str, fid: int, at: dt.datetime) -> WriteError:
    """A write aimed at a retired feature: 404 as its GET (OGC API – Features Part 4: gone after a DELETE), saying
    why and where its past states are."""
    return WriteError(404, "NotFound", f"feature {fid} of {collection} is retired (its lifespan ended at "
                      f"{at.isoformat()}): it no longer takes writes; read it with datetime or its history")
